import Foundation
import Shared
import SwiftProtobuf
import Testing

@testable import Collector

// MARK: - Golden fixtures

/// Every `.out` (detailed) and `.normal.out` (normal) under `shared/fixtures/otlp` against the formatters' output
/// for the matching `.pb` request. Skipped, with the missing path in the comment, when the fixtures are absent.
@Suite("Debug text formatters against the upstream fixtures")
struct DebugTextFormatterFixtureTests {
    /// Decodes `<signal>/<name>.pb` and compares `format(request)` with `<signal>/<name><suffix>`.
    private func check<Request: SwiftProtobuf.Message>(
        _ signal: String, _ name: String, _ suffix: String, _ format: (Request) -> String
    ) throws {
        let request = try Request(serializedBytes: Fixtures.data("\(signal)/\(name).pb"))
        #expect(format(request) == (try Fixtures.text("\(signal)/\(name)\(suffix)")))
    }

    @Test("Detailed traces", .fixtures, arguments: Fixtures.names(signal: "traces", suffix: ".out"))
    func detailedTraces(_ name: String) throws {
        try check("traces", name, ".out") { (request: OTLPTracesRequest) in DetailedTextFormatter.format(request.resourceSpans) }
    }

    @Test("Detailed metrics", .fixtures, arguments: Fixtures.names(signal: "metrics", suffix: ".out"))
    func detailedMetrics(_ name: String) throws {
        try check("metrics", name, ".out") { (request: OTLPMetricsRequest) in DetailedTextFormatter.format(request.resourceMetrics) }
    }

    @Test("Detailed logs", .fixtures, arguments: Fixtures.names(signal: "logs", suffix: ".out"))
    func detailedLogs(_ name: String) throws {
        try check("logs", name, ".out") { (request: OTLPLogsRequest) in DetailedTextFormatter.format(request.resourceLogs) }
    }

    @Test("Normal traces", .fixtures, arguments: Fixtures.names(signal: "traces", suffix: ".normal.out"))
    func normalTraces(_ name: String) throws {
        try check("traces", name, ".normal.out") { (request: OTLPTracesRequest) in NormalTextFormatter.format(request.resourceSpans) }
    }

    @Test("Normal metrics", .fixtures, arguments: Fixtures.names(signal: "metrics", suffix: ".normal.out"))
    func normalMetrics(_ name: String) throws {
        try check("metrics", name, ".normal.out") { (request: OTLPMetricsRequest) in NormalTextFormatter.format(request.resourceMetrics) }
    }

    @Test("Normal logs", .fixtures, arguments: Fixtures.names(signal: "logs", suffix: ".normal.out"))
    func normalLogs(_ name: String) throws {
        try check("logs", name, ".normal.out") { (request: OTLPLogsRequest) in NormalTextFormatter.format(request.resourceLogs) }
    }

    /// Guards the lists above: a wrong suffix rule would silently run nothing.
    @Test("Every signal has detailed and normal expectations", .fixtures, arguments: ["traces", "metrics", "logs"])
    func fixturesAreListed(_ signal: String) {
        let detailed = Fixtures.names(signal: signal, suffix: ".out")
        let normal = Fixtures.names(signal: signal, suffix: ".normal.out")
        #expect(detailed.contains("empty") && detailed.count >= 2)
        #expect(normal.contains("empty") && normal.count >= 2)
        #expect(!detailed.contains { $0.hasPrefix("normal_") })
    }
}

// MARK: - Value formatting

/// The text `body` writes into a fresh buffer.
private func rendered(_ body: (inout DebugTextBuffer) -> Void) -> String {
    var buffer = DebugTextBuffer()
    body(&buffer)
    return buffer.text
}

private func anyValue(_ value: OTLPAnyValue.OneOf_Value?) -> OTLPAnyValue {
    .with { $0.value = value }
}

private func keyValue(_ key: String, _ value: OTLPAnyValue.OneOf_Value?) -> OTLPKeyValue {
    .with {
        $0.key = key
        $0.value = anyValue(value)
    }
}

private func map(_ entries: OTLPKeyValue...) -> OTLPAnyValue.OneOf_Value {
    .kvlistValue(.with { $0.values = entries })
}

private func slice(_ elements: OTLPAnyValue.OneOf_Value?...) -> OTLPAnyValue.OneOf_Value {
    .arrayValue(.with { $0.values = elements.map(anyValue) })
}

@Suite("Debug text value formatting")
struct DebugTextValueFormattingTests {
    @Test(
        "Attribute doubles are JavaScript numbers",
        arguments: [
            (3.0, "3"), (-2.5, "-2.5"), (0.1, "0.1"), (123.456, "123.456"), (0.0, "0"), (-0.0, "-0"),
            (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (1e-6, "0.000001"), (0.0001234, "0.0001234"),
            (1e20, "100000000000000000000"), (1e21, "1e+21"), (1.25e22, "1.25e+22"),
            (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1e-100, "1e-100"), (9007199254740993.0, "9007199254740992"),
        ]
    )
    func jsNumber(_ value: Double, _ expected: String) {
        #expect(rendered { $0.writeJSNumber(value) } == expected)
        #expect(rendered { $0.writeTypedValue(anyValue(.doubleValue(value))) } == "Double(\(expected))")
    }

    @Test(
        "Non-finite attribute doubles print Go's JSON error, as pdata's AsString does",
        arguments: [
            (Double.nan, "Double(NaN)"),
            (Double.infinity, "Double(Infinity)"),
            (-Double.infinity, "Double(-Infinity)"),
        ]
    )
    func nonFiniteAttributeDouble(_ value: Double, _ expected: String) {
        #expect(rendered { $0.writeTypedValue(anyValue(.doubleValue(value))) } == expected)
    }

    @Test(
        "Normal-mode doubles use Go's %v",
        arguments: [
            (1e6, "1e+06"), (123.456, "123.456"), (1e-5, "1e-05"), (0.0001, "0.0001"), (100000.0, "100000"),
            (123456789.0, "1.23456789e+08"), (78.901234567, "78.901234567"), (-1.5e-7, "-1.5e-07"),
            (1e100, "1e+100"), (2.5e-300, "2.5e-300"), (2.0, "2"), (0.0, "0"), (-0.0, "-0"),
            (2.8284271247461903, "2.8284271247461903"), (Double.nan, "NaN"), (Double.infinity, "+Inf"),
            (-Double.infinity, "-Inf"),
        ]
    )
    func goFloat(_ value: Double, _ expected: String) {
        #expect(rendered { $0.writeGoFloat(value) } == expected)
    }

    @Test(
        "Detailed-mode doubles use Go's %f",
        arguments: [
            (1.23, "1.230000"), (15.0, "15.000000"), (0.0, "0.000000"), (-0.0, "-0.000000"), (-1e-9, "-0.000000"),
            (0.0078125, "0.007812"), (0.0234375, "0.023438"), (1.4142135623730951, "1.414214"),
            (0.0000005, "0.000000"), (123456789.123456789, "123456789.123457"), (1e300, String(format: "%.6f", 1e300)),
            (9007199254740992.0, "9007199254740992.000000"), (Double.nan, "NaN"), (Double.infinity, "+Inf"),
            (-Double.infinity, "-Inf"),
        ]
    )
    func fixed6(_ value: Double, _ expected: String) {
        #expect(rendered { $0.writeFixed6(value) } == expected)
    }

    @Test("%f matches the C library on many doubles")
    func fixed6MatchesCLibrary() {
        var state: UInt64 = 0x5EED  // xorshift64: repeatable
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var mismatches: [String] = []
        for round in 0..<20_000 {
            // Alternate raw bit patterns (all magnitudes) with values near the six-decimal rounding boundaries.
            var value = Double(bitPattern: next())
            if !value.isFinite || round.isMultiple(of: 2) {
                value = Double(Int64(truncatingIfNeeded: next()) % 10_000_000_000) / 1e6 + 5e-7
            }
            let ours = rendered { $0.writeFixed6(value) }
            let libc = String(format: "%.6f", value)
            if ours != libc { mismatches.append("\(value): \(ours) vs \(libc)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test(
        "Timestamps are UTC with the fraction trimmed",
        arguments: [
            (UInt64(0), "1970-01-01 00:00:00 +0000 UTC"),
            (1_581_452_773_000_000_789, "2020-02-11 20:26:13.000000789 +0000 UTC"),
            (1_581_452_772_000_000_321, "2020-02-11 20:26:12.000000321 +0000 UTC"),
            (1_744_879_244_500_000_000, "2025-04-17 08:40:44.5 +0000 UTC"),
            (1_709_208_000_120_000_000, "2024-02-29 12:00:00.12 +0000 UTC"),
            (4_102_444_799_000_000_000, "2099-12-31 23:59:59 +0000 UTC"),
            (UInt64.max, "1969-12-31 23:59:59.999999999 +0000 UTC"),
        ]
    )
    func timestamp(_ unixNano: UInt64, _ expected: String) {
        #expect(rendered { $0.writeTimestamp(unixNano) } == expected)
    }

    @Test("Ids are lowercase hex, and all-zero ids are empty")
    func ids() {
        #expect(rendered { $0.writeID(Data([0x01, 0xAB, 0x00, 0xFF])) } == "01ab00ff")
        #expect(rendered { $0.writeID(Data(repeating: 0, count: 16)) } == "")
        #expect(rendered { $0.writeID(Data()) } == "")
        #expect(rendered { $0.writeID(Data(1...16)) } == "0102030405060708090a0b0c0d0e0f10")
    }

    @Test("Scalar values print as Type(text)")
    func scalars() {
        #expect(rendered { $0.writeTypedValue(anyValue(.stringValue("a\nb <&>"))) } == "Str(a\nb <&>)")
        #expect(rendered { $0.writeTypedValue(anyValue(.intValue(-42))) } == "Int(-42)")
        #expect(rendered { $0.writeTypedValue(anyValue(.boolValue(true))) } == "Bool(true)")
        #expect(rendered { $0.writeTypedValue(anyValue(.bytesValue(Data([1, 2, 3])))) } == "Bytes(AQID)")
        #expect(rendered { $0.writeTypedValue(anyValue(.bytesValue(Data([1, 2])))) } == "Bytes(AQI=)")
        #expect(rendered { $0.writeTypedValue(anyValue(nil)) } == "Empty()")
        #expect(rendered { $0.writeTypedValue(anyValue(.stringValueStrindex(3))) } == "Empty()")
    }

    @Test("Maps are compact JSON with sorted keys and no HTML escaping")
    func maps() {
        let nested = map(
            keyValue("b", map(keyValue("d", .stringValue("x")), keyValue("c", .doubleValue(1.5)))),
            keyValue("a", .intValue(1)),
            keyValue("html", .stringValue("<a href=\"x\">&</a>")),
            keyValue("Z", .boolValue(false)),
            keyValue("e", nil),
            keyValue("bytes", .bytesValue(Data([0xFF]))),
            keyValue("empty bytes", .bytesValue(Data()))
        )
        #expect(
            rendered { $0.writeTypedValue(anyValue(nested)) }
                == #"Map({"Z":false,"a":1,"b":{"c":1.5,"d":"x"},"bytes":"/w==","e":null,"empty bytes":null,"#
                + #""html":"<a href=\"x\">&</a>"})"#
        )
        #expect(rendered { $0.writeTypedValue(anyValue(map())) } == "Map({})")
    }

    @Test("Duplicate map keys keep the last value, as a Go map does")
    func duplicateKeys() {
        let value = map(keyValue("k", .intValue(1)), keyValue("j", .intValue(2)), keyValue("k", .intValue(3)))
        #expect(rendered { $0.writeValueText(anyValue(value)) } == #"{"j":2,"k":3}"#)
    }

    @Test("Slices are compact JSON arrays")
    func slices() {
        let value = slice(.stringValue("a"), .intValue(1), .boolValue(true), .doubleValue(1e21), nil, slice())
        #expect(rendered { $0.writeTypedValue(anyValue(value)) } == #"Slice(["a",1,true,1e+21,null,[]])"#)
    }

    @Test("JSON strings escape as Go's encoder does")
    func jsonEscapes() {
        let value = slice(.stringValue("q\" b\\ \u{08}\u{0C}\n\r\t \u{01}\u{1F} \u{7F} \u{2028}\u{2029} é"))
        #expect(
            rendered { $0.writeValueText(anyValue(value)) }
                == #"["q\" b\\ \b\f\n\r\t \u0001\u001f "# + "\u{7F}" + #" \u2028\u2029 é"]"#
        )
    }

    @Test("A map or slice holding a non-finite double prints nothing, as Go's failed JSON encoding")
    func nonFiniteInsideJSON() {
        let value = map(keyValue("a", .stringValue("x")), keyValue("b", slice(.doubleValue(.nan))))
        #expect(rendered { $0.write("<"); $0.writeTypedValue(anyValue(value)); $0.write(">") } == "<Map()>")
    }

    @Test("Enum words follow pdata, and unknown values print empty")
    func enumWords() {
        #expect([.unspecified, .info, .fatal4, .UNRECOGNIZED(42)].map(DebugTextNames.severity) == ["Unspecified", "Info", "Fatal4", ""])
        #expect([.consumer, .UNRECOGNIZED(9)].map(DebugTextNames.spanKind) == ["Consumer", ""])
        #expect(DebugTextNames.statusCode(.ok) == "Ok")
        #expect(DebugTextNames.temporality(.delta) == "Delta")
        #expect(DebugTextNames.metricType(nil) == "Empty")
    }
}

// MARK: - Shapes the fixtures do not cover

/// Summaries, exponential histograms with negative and zero buckets, and resource entity refs, per the reference
/// (collector-behavior.md §6.4–6.5) and upstream's `traces_with_entity_refs.out`.
@Suite("Debug text formatters beyond the fixtures")
struct DebugTextFormatterShapeTests {
    private static func metricsRequest(_ metric: OTLPMetric) -> [OTLPResourceMetrics] {
        [.with { $0.scopeMetrics = [.with { $0.metrics = [metric] }] }]
    }

    private static let exponentialHistogram = OTLPMetric.with {
        $0.name = "latency"
        $0.exponentialHistogram.aggregationTemporality = .delta
        $0.exponentialHistogram.dataPoints = [
            .with {
                $0.count = 3
                $0.scale = 1
                $0.zeroCount = 1
                $0.negative.bucketCounts = [1]
                $0.positive.offset = 1
                $0.positive.bucketCounts = [1]
            }
        ]
    }

    private static let summary = OTLPMetric.with {
        $0.name = "summary"
        $0.summary.dataPoints = [
            .with {
                $0.attributes = [keyValue("k", .stringValue("v"))]
                $0.count = 1340
                $0.sum = 99.573
                $0.quantileValues = [(0.01, 15.0), (0.99, 42.5)].map { pair in
                    .with {
                        $0.quantile = pair.0
                        $0.value = pair.1
                    }
                }
            }
        ]
    }

    private static let header = """
        ResourceMetrics #0
        Resource SchemaURL: \("")
        ScopeMetrics #0
        ScopeMetrics SchemaURL: \("")
        InstrumentationScope \(" ")
        Metric #0
        Descriptor:

        """
    private static let epoch = "1970-01-01 00:00:00 +0000 UTC"

    @Test("Exponential histogram buckets, detailed and normal")
    func exponentialHistogramText() {
        let request = Self.metricsRequest(Self.exponentialHistogram)
        #expect(DetailedTextFormatter.format(request) == Self.header + """
                 -> Name: latency
                 -> Description: \("")
                 -> Unit: \("")
                 -> DataType: ExponentialHistogram
                 -> AggregationTemporality: Delta
            ExponentialHistogramDataPoints #0
            StartTimestamp: \(Self.epoch)
            Timestamp: \(Self.epoch)
            Count: 3
            Bucket [-1.414214, -1.000000), Count: 1
            Bucket [0, 0], Count: 1
            Bucket (1.414214, 2.000000], Count: 1

            """)
        #expect(NormalTextFormatter.format(request) == "ResourceMetrics #0\nScopeMetrics #0\nlatency{} count=3 le-1=1 zero=1 le2=1\n")
    }

    @Test("Summary quantiles, detailed and normal")
    func summaryText() {
        let request = Self.metricsRequest(Self.summary)
        #expect(DetailedTextFormatter.format(request) == Self.header + """
                 -> Name: summary
                 -> Description: \("")
                 -> Unit: \("")
                 -> DataType: Summary
            SummaryDataPoints #0
            Data point attributes:
                 -> k: Str(v)
            StartTimestamp: \(Self.epoch)
            Timestamp: \(Self.epoch)
            Count: 1340
            Sum: 99.573000
            QuantileValue #0: Quantile 0.010000, Value 15.000000
            QuantileValue #1: Quantile 0.990000, Value 42.500000

            """)
        #expect(
            NormalTextFormatter.format(request)
                == "ResourceMetrics #0\nScopeMetrics #0\nsummary{k=v} count=1340 sum=99.573000 q0.01=15 q0.99=42.5\n"
        )
    }

    @Test("Resource entity refs follow the resource attributes")
    func entityRefs() {
        let resource = OTLPResourceSpans.with {
            $0.resource.attributes = [keyValue("service.name", .stringValue("my-service"))]
            $0.resource.entityRefs = [
                .with {
                    $0.type = "service"
                    $0.schemaURL = "https://opentelemetry.io/schemas/1.21.0"
                    $0.idKeys = ["service.name"]
                    $0.descriptionKeys = ["service.version"]
                },
                .with {
                    $0.type = "host"
                    $0.idKeys = ["host.name"]
                },
            ]
        }
        #expect(DetailedTextFormatter.format([resource]) == """
            ResourceSpans #0
            Resource SchemaURL: \("")
            Resource attributes:
                 -> service.name: Str(my-service)
            Resource entity refs:
                 -> Entity ref #0:
                      -> Type: service
                      -> Schema URL: https://opentelemetry.io/schemas/1.21.0
                      -> ID keys:
                           -> service.name
                      -> Description keys:
                           -> service.version
                 -> Entity ref #1:
                      -> Type: host
                      -> ID keys:
                           -> host.name

            """)
    }
}
