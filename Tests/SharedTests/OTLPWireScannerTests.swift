import Foundation
import NIOCore
import Shared
import SwiftProtobuf
import Testing

/// `OTLPWireScanner` stands in for decoding on the receiver's protobuf path, so it must give the decoder's
/// answer for every input: the same rejection text, or success with the decoded message's counts.
@Suite("OTLP wire scanner: the decoder's answers without decoding")
struct OTLPWireScannerTests {
    /// The scanner's and the decoder's outcome for `bytes` read as a `M`.
    static func outcomes<M: SignalPayload>(_ type: M.Type, _ bytes: [UInt8]) -> (scanned: String, decoded: String) {
        let body = ByteBuffer(bytes: bytes)
        let scanned: String
        do {
            scanned = "ok \(try OTLPHTTPIngest.scan(M.self, body))"
        } catch {
            scanned = "error \(error)"
        }
        let decoded: String
        do {
            let message = try OTLPHTTPIngest.decodeMessage(M.self, from: body, encoding: .protobuf)
            decoded = "ok \(OTLPWireCounts(resources: message.resourceCount, items: message.itemCount, metrics: message.metricCount))"
        } catch {
            decoded = "error \(error)"
        }
        return (scanned, decoded)
    }

    static func expectSame<M: SignalPayload>(_ type: M.Type, _ bytes: [UInt8], _ comment: Comment? = nil) {
        let (scanned, decoded) = outcomes(M.self, bytes)
        #expect(scanned == decoded, comment)
    }

    static func outcome(_ signal: Signal, _ bytes: [UInt8]) -> (scanned: String, decoded: String) {
        switch signal {
        case .traces: outcomes(OTLPTracesRequest.self, bytes)
        case .metrics: outcomes(OTLPMetricsRequest.self, bytes)
        case .logs: outcomes(OTLPLogsRequest.self, bytes)
        }
    }

    /// The committed fuzz seeds that are plain protobuf bodies (fixtures of all three signals).
    static let seeds: [(name: String, signal: Signal, body: [UInt8])] = FuzzCorpusTests.names.compactMap { name in
        guard let seed = try? FuzzCorpusTests.Seed(name: name), seed.encoding == .protobuf, seed.compression == .identity else {
            return nil
        }
        return (name, seed.signal, Array(seed.body.readableBytesView))
    }

    @Test("every protobuf seed: accepted, with the decoded message's counts")
    func seedsAgree() throws {
        #expect(Self.seeds.count >= 10)
        for seed in Self.seeds {
            let (scanned, decoded) = Self.outcome(seed.signal, seed.body)
            #expect(scanned == decoded, "\(seed.name)")
            #expect(scanned.hasPrefix("ok"), "\(seed.name): \(scanned)")
        }
    }

    /// Deterministic mutations (byte flips, truncations, insertions, deletions, length-byte bumps) of every
    /// seed: whatever the decoder says, the scanner says too.
    @Test("6,000 mutated bodies: the same answer as the decoder")
    func mutationsAgree() {
        var rng = SplitMix64(seed: 0x5eed_0f_07e1)
        var rejected = 0
        var total = 0
        for seed in Self.seeds {
            for _ in 0..<(6_000 / max(Self.seeds.count, 1)) {
                var bytes = seed.body
                for _ in 0...(rng.next() % 3) { mutate(&bytes, &rng) }
                let (scanned, decoded) = Self.outcome(seed.signal, bytes)
                #expect(scanned == decoded, "\(seed.name) mutated: \(bytes.count) bytes")
                if decoded.hasPrefix("error") { rejected += 1 }
                total += 1
            }
        }
        // Both outcomes must be well represented, or the comparison proves little.
        #expect(rejected > total / 10 && rejected < total * 9 / 10, "\(rejected) of \(total) rejected")
    }

    private func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        guard !bytes.isEmpty else {
            bytes.append(UInt8(truncatingIfNeeded: rng.next()))
            return
        }
        let at = Int(rng.next() % UInt64(bytes.count))
        switch rng.next() % 6 {
        case 0: bytes[at] ^= UInt8(1 << (rng.next() % 8))
        case 1: bytes.removeSubrange(at...)
        case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
        case 3: bytes.remove(at: at)
        case 4: bytes[at] = bytes[at] &+ 1
        default: bytes[at] = [0x00, 0x7f, 0x80, 0xff, 0x0b, 0x0c, 0x13][Int(rng.next() % 7)]
        }
    }

    // MARK: - Cases mutations rarely reach

    static func span(name: String = "op", traceID: Data = Data(repeating: 1, count: 16)) -> OTLPSpan {
        var span = OTLPSpan()
        span.traceID = traceID
        span.spanID = Data(repeating: 2, count: 8)
        span.name = name
        return span
    }

    static func traces(_ spans: [OTLPSpan]) -> OTLPTracesRequest {
        var scope = OTLPScopeSpans()
        scope.spans = spans
        var resource = OTLPResourceSpans()
        resource.scopeSpans = [scope]
        var request = OTLPTracesRequest()
        request.resourceSpans = [resource]
        return request
    }

    @Test("invalid UTF-8 in a string field is rejected as the decoder rejects it")
    func invalidUTF8() throws {
        var bytes: [UInt8] = try Self.traces([Self.span(name: "abcdefghij-é")]).serializedBytes()
        // The last byte of the name is the second byte of "é" (0xC3 0xA9): make it an invalid continuation.
        let index = try #require(bytes.lastIndex(of: 0xA9))
        bytes[index] = 0x41
        let (scanned, decoded) = Self.outcomes(OTLPTracesRequest.self, bytes)
        #expect(scanned == decoded)
        #expect(scanned == "error failed to unmarshal proto request: invalidUTF8")
    }

    @Test("a bad trace id is rejected, unless a later occurrence of the field replaces it")
    func identifierLastOccurrenceWins() throws {
        let bad: [UInt8] = try Self.traces([Self.span(traceID: Data([1, 2, 3]))]).serializedBytes()
        #expect(Self.outcomes(OTLPTracesRequest.self, bad).scanned
            == "error invalid trace id in span.traceId: length 3 bytes, want 16")
        Self.expectSame(OTLPTracesRequest.self, bad)

        // The span again with a good trace id appended after its fields: the decoder keeps the last one.
        var span: [UInt8] = try Self.span(traceID: Data([1, 2, 3])).serializedBytes()
        span += field(0x0a, [UInt8](repeating: 7, count: 16))
        let request = field(0x0a, field(0x12, field(0x12, span)))
        let (scanned, decoded) = Self.outcomes(OTLPTracesRequest.self, request)
        #expect(scanned == decoded)
        #expect(scanned == "ok resources: 1, items: 1, metrics: 0")
    }

    @Test("a metric's data replaced by another kind takes its data points and exemplar ids with it")
    func metricDataReplaced() throws {
        var exemplar = OTLPExemplar()
        exemplar.traceID = Data([9, 9])  // invalid, but only inside the gauge that is replaced
        var point = OTLPNumberDataPoint()
        point.exemplars = [exemplar]
        var gauge = Opentelemetry_Proto_Metrics_V1_Gauge()
        gauge.dataPoints = [point, point]
        var sum = Opentelemetry_Proto_Metrics_V1_Sum()
        sum.dataPoints = [OTLPNumberDataPoint()]
        let gaugeBytes: [UInt8] = try gauge.serializedBytes()
        let sumBytes: [UInt8] = try sum.serializedBytes()
        // Metric: name "m", the gauge (field 5), then the sum (field 7).
        let metric = [0x0a, 1, 0x6d] + field(0x2a, gaugeBytes) + field(0x3a, sumBytes)
        let request = field(0x0a, field(0x12, field(0x12, metric)))
        let (scanned, decoded) = Self.outcomes(OTLPMetricsRequest.self, request)
        #expect(scanned == decoded)
        #expect(scanned == "ok resources: 1, items: 1, metrics: 1")

        // The same gauge twice merges: four data points, and the bad exemplar id counts.
        let twice = [0x0a, 1, 0x6d] + field(0x2a, gaugeBytes) + field(0x2a, gaugeBytes)
        let merged = field(0x0a, field(0x12, field(0x12, twice)))
        Self.expectSame(OTLPMetricsRequest.self, merged)
        #expect(Self.outcomes(OTLPMetricsRequest.self, merged).scanned
            == "error invalid trace id in exemplar.traceId: length 2 bytes, want 16")
    }

    @Test("nesting past swift-protobuf's limit of 100 is rejected at the same depth")
    func depthLimit() throws {
        // The innermost AnyValue of `depth` arrays is message number 6 + 2 × depth from the top.
        var outcomes: [Int: String] = [:]
        for depth in [46, 47, 48, 60] {
            var value = OTLPAnyValue()
            value.stringValue = "leaf"
            for _ in 0..<depth {
                var array = OTLPArrayValue()
                array.values = [value]
                value = OTLPAnyValue()
                value.arrayValue = array
            }
            var attribute = OTLPKeyValue()
            attribute.key = "deep"
            attribute.value = value
            var span = Self.span()
            span.attributes = [attribute]
            let bytes: [UInt8] = try Self.traces([span]).serializedBytes(partial: true)
            Self.expectSame(OTLPTracesRequest.self, bytes, "depth \(depth)")
            outcomes[depth] = Self.outcomes(OTLPTracesRequest.self, bytes).scanned
        }
        #expect(outcomes[47]?.hasPrefix("ok") == true)
        #expect(outcomes[48] == "error failed to unmarshal proto request: messageDepthLimit")
    }

    @Test("unknown fields of every wire type, groups included, are skipped as the decoder skips them")
    func unknownFields() throws {
        let span: [UInt8] = try Self.span().serializedBytes()
        let unknown: [[UInt8]] = [
            [0xf8, 0x01, 0x05],  // field 31, varint
            [0xf9, 0x01] + [UInt8](repeating: 0, count: 8),  // field 31, fixed64
            [0xfd, 0x01, 1, 2, 3, 4],  // field 31, fixed32
            [0xfb, 0x01, 0x08, 0x01, 0xfc, 0x01],  // field 31, a group holding a varint
            [0xfb, 0x01, 0x08, 0x01, 0x84, 0x02],  // a group closed by another field's end tag
            [0xfc, 0x01],  // an end-group tag outside any group
            [0x08, 0x01],  // span field 1 (trace id) as a varint: kept as unknown, not an id
            [0x0f],  // wire type 7
            [0x80, 0x80, 0x80, 0x80, 0x10, 0x00],  // a tag past 32 bits
        ]
        for extra in unknown {
            let request = field(0x0a, field(0x12, field(0x12, span + extra)))
            Self.expectSame(OTLPTracesRequest.self, request, "\(extra)")
        }
    }

    @Test("packed repeated numbers: lengths that are not whole values are rejected as when decoding")
    func packedFields() throws {
        for (tag, payload) in [(UInt8(0x32), [UInt8](repeating: 1, count: 16)), (0x32, [1, 2, 3]), (0x3a, [UInt8](repeating: 0, count: 12))] {
            // Histogram data point field 6 (bucket counts) or 7 (bounds), in a histogram (metric field 9).
            let request = field(0x0a, field(0x12, field(0x12, field(0x4a, field(0x0a, field(tag, payload))))))
            Self.expectSame(OTLPMetricsRequest.self, request, "\(payload.count) bytes in field \(tag >> 3)")
        }
        // Lengths past the end: 2 GiB and more is malformed for fixed64 (bucket counts) but truncated for doubles
        // (bounds), as swift-protobuf checks them (found by the fuzzer: a bounds length of 0x3fffffffffffffde).
        for (tag, length) in [(UInt8(0x32), [UInt8](repeating: 0xff, count: 7) + [0x3f]), (0x3a, [0xde] + [UInt8](repeating: 0xff, count: 6) + [0x3f]),
                              (0x3a, [0x80, 0x01]), (0x32, [0x80, 0x01])] {
            let point = [tag] + length + [UInt8](repeating: 0, count: 16)
            let request = field(0x0a, field(0x12, field(0x12, field(0x4a, field(0x0a, point)))))
            Self.expectSame(OTLPMetricsRequest.self, request, "field \(tag >> 3), length bytes \(length)")
        }
        // A `bytes` value (AnyValue field 7) whose length is 2 GiB or more: malformed, as for every known
        // length-delimited field; the same length on an unknown field is only truncated (found by the fuzzer).
        for tag in [UInt8(0x3a), 0x7a] {
            let value = [tag] + [UInt8](repeating: 0xff, count: 7) + [0xa2, 0x31] + [UInt8](repeating: 0, count: 4)
            let request = field(0x0a, field(0x12, field(0x12, field(0x2a, value))))
            Self.expectSame(OTLPLogsRequest.self, request, "AnyValue field \(tag >> 3)")
        }
        // Exponential histogram buckets: packed varints, one cut short.
        for counts in [[UInt8]([1, 0x80, 1, 2]), [1, 0x80]] {
            // Buckets field 2 in the positive buckets (8) of a point of an exponential histogram (metric field 10).
            let request = field(0x0a, field(0x12, field(0x12, field(0x52, field(0x0a, field(0x42, field(0x12, counts)))))))
            Self.expectSame(OTLPMetricsRequest.self, request, "\(counts)")
        }
    }

    @Test("summary quantiles are messages: their bytes are checked like any message's")
    func summaryQuantiles() {
        // Summary data point field 6 (ValueAtQuantile) holding a good quantile, then a malformed one.
        for quantile in [[UInt8]([0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f]), [0x0f], [0x09, 0, 0]] {
            let request = field(0x0a, field(0x12, field(0x12, field(0x5a, field(0x0a, field(0x32, quantile))))))
            Self.expectSame(OTLPMetricsRequest.self, request, "\(quantile)")
        }
    }

    @Test("logs: records counted, ids checked in the decoder's order")
    func logs() throws {
        var record = OTLPLogRecord()
        record.spanID = Data([1])
        record.traceID = Data([2])
        var scope = OTLPScopeLogs()
        scope.logRecords = [OTLPLogRecord(), record]
        var resource = OTLPResourceLogs()
        resource.scopeLogs = [scope, scope]
        var request = OTLPLogsRequest()
        request.resourceLogs = [resource]
        let bytes: [UInt8] = try request.serializedBytes()
        Self.expectSame(OTLPLogsRequest.self, bytes)
        #expect(Self.outcomes(OTLPLogsRequest.self, bytes).scanned
            == "error invalid trace id in logRecord.traceId: length 1 bytes, want 16")
        request.resourceLogs[0].scopeLogs[0].logRecords = [OTLPLogRecord()]
        request.resourceLogs[0].scopeLogs[1].logRecords = [OTLPLogRecord(), OTLPLogRecord()]
        #expect(Self.outcomes(OTLPLogsRequest.self, try request.serializedBytes()).scanned == "ok resources: 1, items: 3, metrics: 0")
    }
}

/// A length-delimited field: its tag byte, the length, the body.
private func field(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
    [tag] + varint(body.count) + body
}

private func varint(_ value: Int) -> [UInt8] {
    var value = UInt64(value)
    var out: [UInt8] = []
    while value >= 0x80 {
        out.append(UInt8(value & 0x7f) | 0x80)
        value >>= 7
    }
    out.append(UInt8(value))
    return out
}

/// A small seeded generator, so the mutations are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
