import Foundation
import Logging
import Shared
import SwiftProtobuf
import Testing

@testable import Collector

// MARK: - Helpers

/// A scalar or nested attribute value, written compactly in tests.
enum AttrValue: Equatable {
    case s(String), i(Int64), d(Double), b(Bool)
    case list([AttrValue]), map([(String, AttrValue)])
    case bytes([UInt8])
    case empty

    static func == (lhs: AttrValue, rhs: AttrValue) -> Bool { lhs.any == rhs.any }

    var any: OTLPAnyValue {
        var value = OTLPAnyValue()
        switch self {
        case .s(let x): value.stringValue = x
        case .i(let x): value.intValue = x
        case .d(let x): value.doubleValue = x
        case .b(let x): value.boolValue = x
        case .bytes(let x): value.bytesValue = Data(x)
        case .list(let items):
            var array = OTLPArrayValue()
            array.values = items.map(\.any)
            value.arrayValue = array
        case .map(let entries):
            var map = OTLPKeyValueList()
            map.values = attributes(entries)
            value.kvlistValue = map
        case .empty: break
        }
        return value
    }
}

private func attributes(_ pairs: [(String, AttrValue)]) -> [OTLPKeyValue] {
    pairs.map { key, value in
        var entry = OTLPKeyValue()
        entry.key = key
        entry.value = value.any
        return entry
    }
}

/// Attributes as `[key: value]` for comparisons (tests never use duplicate keys).
private func dict(_ attributes: [OTLPKeyValue]) -> [String: OTLPAnyValue] {
    Dictionary(attributes.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
}

private func span(
    _ name: String = "GET /users", kind: OTLPSpan.SpanKind = .server, _ pairs: [(String, AttrValue)] = []
) -> OTLPSpan {
    var span = OTLPSpan()
    span.name = name
    span.kind = kind
    span.attributes = attributes(pairs)
    return span
}

private func traces(
    service: String? = "checkout", scope: String = "io.opentelemetry.http", version: String = "1.0", _ spans: [OTLPSpan]
) -> OTLPTracesRequest {
    var scopeSpans = OTLPScopeSpans()
    scopeSpans.scope.name = scope
    scopeSpans.scope.version = version
    scopeSpans.scope.attributes = attributes([("scope.attr", .s("keep"))])
    scopeSpans.spans = spans
    var resourceSpans = OTLPResourceSpans()
    var resourcePairs: [(String, AttrValue)] = [("host.name", .s("node-1"))]
    if let service { resourcePairs.insert(("service.name", .s(service)), at: 0) }
    resourceSpans.resource.attributes = attributes(resourcePairs)
    resourceSpans.scopeSpans = [scopeSpans]
    var request = OTLPTracesRequest()
    request.resourceSpans = [resourceSpans]
    return request
}

private func spans(_ request: OTLPTracesRequest) -> [OTLPSpan] {
    request.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
}

/// Decodes `yaml` (the body of `processors: attributes/x:`) as the collector does; returns the config and
/// every error, printed with its key path.
private func decode(_ yaml: String) -> (AttributesConfig, [String]) {
    let value: ConfigValue
    do {
        value = try ConfigValue.parse(yaml: yaml)
    } catch {
        return (AttributesConfig(), ["YAML: \(error)"])
    }
    var reader = ConfigReader(value, path: ["processors", "attributes/x"])
    let config = AttributesConfig.decode(&reader)
    return (config, reader.finishErrors().map(\.description))
}

/// A processor for `yaml` in front of a sink; fails the test when the configuration has errors.
private func processor<P: PipelinePayload>(
    _ yaml: String, _ type: P.Type = OTLPTracesRequest.self, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (AttributesProcessor<P>, SinkConsumer<P>) {
    let (config, errors) = decode(yaml)
    #expect(errors.isEmpty, "\(errors)", sourceLocation: sourceLocation)
    let sink = SinkConsumer<P>()
    let processor = try AttributesProcessor<P>(id: ComponentID(type: "attributes", name: "x"), config: config, next: sink)
    return (processor, sink)
}

/// Runs one span with `pairs` through the actions of `yaml`; returns its attributes afterwards.
private func run(_ yaml: String, on pairs: [(String, AttrValue)]) async throws -> [String: OTLPAnyValue] {
    let (processor, sink) = try processor(yaml)
    try await processor.consume(traces([span(pairs)]))
    let payload = try #require(sink.payloads.first)
    let first = try #require(spans(payload).first)
    return dict(first.attributes)
}

private func span(_ pairs: [(String, AttrValue)]) -> OTLPSpan { span("GET /users", pairs) }

// MARK: - Actions

@Suite("Attributes processor: actions")
struct AttributesProcessorActionTests {
    @Test("insert sets a key only when it is absent")
    func insert() async throws {
        let yaml = "actions:\n  - {key: env, value: prod, action: insert}"
        #expect(try await run(yaml, on: [])["env"] == AttrValue.s("prod").any)
        let kept = try await run(yaml, on: [("env", .s("dev"))])
        #expect(kept["env"] == AttrValue.s("dev").any)
        #expect(kept.count == 1)
    }

    @Test("update changes a key only when it is present")
    func update() async throws {
        let yaml = "actions:\n  - {key: env, value: prod, action: update}"
        #expect(try await run(yaml, on: [("env", .s("dev"))])["env"] == AttrValue.s("prod").any)
        #expect(try await run(yaml, on: [("other", .i(1))])["env"] == nil)
    }

    @Test("upsert sets a key whether or not it is present; the action name is case-insensitive")
    func upsert() async throws {
        let yaml = "actions:\n  - {key: env, value: prod, action: UPSERT}"
        #expect(try await run(yaml, on: [("env", .s("dev"))])["env"] == AttrValue.s("prod").any)
        #expect(try await run(yaml, on: [])["env"] == AttrValue.s("prod").any)
    }

    @Test(
        "value keeps its YAML type (unquoted scalars typed, quoted ones strings, lists and maps nested)",
        arguments: [
            ("2245", AttrValue.i(2245)), ("-7", AttrValue.i(-7)), ("0x1F", AttrValue.i(31)), ("1_000", AttrValue.i(1000)),
            ("1.5", AttrValue.d(1.5)), ("-2e3", AttrValue.d(-2000)), (".inf", AttrValue.d(.infinity)),
            ("true", AttrValue.b(true)), ("False", AttrValue.b(false)),
            ("\"2245\"", AttrValue.s("2245")), ("'true'", AttrValue.s("true")), ("hello", AttrValue.s("hello")), ("1.2.3", AttrValue.s("1.2.3")),
            ("yes", AttrValue.s("yes")), ("inf", AttrValue.s("inf")),
            ("[a, 1, true]", AttrValue.list([.s("a"), .i(1), .b(true)])),
            ("{a: 1, b: {c: x}}", AttrValue.map([("a", .i(1)), ("b", .map([("c", .s("x"))]))])),
        ])
    func typedValues(yamlValue: String, expected: AttrValue) async throws {
        let yaml = "actions:\n  - key: k\n    value: \(yamlValue)\n    action: upsert"
        #expect(try await run(yaml, on: [])["k"] == expected.any)
    }

    @Test("from_attribute copies another attribute's value (any type); a missing source does nothing")
    func fromAttribute() async throws {
        let yaml = "actions:\n  - {key: copy, from_attribute: source, action: upsert}"
        let copied = try await run(yaml, on: [("source", .map([("a", .i(1))]))])
        #expect(copied["copy"] == AttrValue.map([("a", .i(1))]).any)
        let missing = try await run(yaml, on: [("copy", .s("old"))])
        #expect(missing["copy"] == AttrValue.s("old").any)
    }

    @Test("delete removes the key and every key the pattern matches (unanchored, like Go's MatchString)")
    func delete() async throws {
        let yaml = """
            actions:
              - {key: password, action: delete}
              - {pattern: "token$", action: delete}
            """
        let result = try await run(
            yaml, on: [("password", .s("x")), ("auth.token", .s("y")), ("refresh_token", .s("z")), ("tokens", .i(1)), ("user", .s("u"))])
        #expect(Set(result.keys) == ["tokens", "user"])
    }

    @Test(
        "hash replaces values by the lowercase hex SHA-256 of their bytes (strings UTF-8, ints and doubles 8 bytes LE, bools 1 byte)",
        arguments: [
            (AttrValue.s("john@example.com"), AttrValue.s("855f96e983f1f8e8be944692b6f719fd54329826cb62e98015efee8e2e071dd4")),
            (AttrValue.s("abc"), AttrValue.s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")),
            (AttrValue.i(123), AttrValue.s("4f319987a786107dc63b2b70115b3734cb9880b099b70c463c5e1b05521ab764")),
            (AttrValue.i(-1), AttrValue.s("12a3ae445661ce5dee78d0650d33362dec29c4f82af05e7e57fb595bbbacf0ca")),
            (AttrValue.d(1.5), AttrValue.s("e163f8cb0f7067a7fc78ca859a77f849aea3214f38fb75b884e4a16be725c905")),
            (AttrValue.b(true), AttrValue.s("4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a")),
            (AttrValue.b(false), AttrValue.s("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")),
            // Upstream digests nothing for these and leaves an empty string.
            (AttrValue.s(""), AttrValue.s("")), (AttrValue.map([("a", .i(1))]), AttrValue.s("")), (AttrValue.list([.i(1)]), AttrValue.s("")), (AttrValue.bytes([1, 2]), AttrValue.s("")),
            (AttrValue.empty, AttrValue.s("")),
        ])
    func hash(value: AttrValue, expected: AttrValue) async throws {
        let result = try await run("actions:\n  - {key: k, action: hash}", on: [("k", value), ("other", .s("abc"))])
        #expect(result["k"] == expected.any)
        #expect(result["other"] == AttrValue.s("abc").any)
    }

    @Test("hash with a pattern hashes every matching key; a key that is also `key` is hashed twice, as upstream")
    func hashPattern() async throws {
        let onlyPattern = try await run(
            "actions:\n  - {pattern: '^user\\.', action: hash}", on: [("user.email", .s("john@example.com")), ("id", .s("abc"))])
        #expect(onlyPattern["user.email"] == AttrValue.s("855f96e983f1f8e8be944692b6f719fd54329826cb62e98015efee8e2e071dd4").any)
        #expect(onlyPattern["id"] == AttrValue.s("abc").any)
        let both = try await run(
            "actions:\n  - {key: user.email, pattern: email, action: hash}", on: [("user.email", .s("john@example.com"))])
        #expect(both["user.email"] == AttrValue.s("8b88bb940e3ebc0141c577cca65480d906793b0aa53d5c40f10fdf0017d9e2d8").any)
    }

    @Test("extract sets one string attribute per named group, overwriting; the source stays")
    func extract() async throws {
        let yaml = #"actions:\n  - {key: http.url, pattern: '^/api/(?P<version>v\d+)/users/(?<user_id>\d+)', action: extract}"#
            .replacingOccurrences(of: "\\n", with: "\n")
        let result = try await run(yaml, on: [("http.url", .s("/api/v2/users/42?x=1")), ("version", .i(1))])
        #expect(result["version"] == AttrValue.s("v2").any)
        #expect(result["user_id"] == AttrValue.s("42").any)
        #expect(result["http.url"] == AttrValue.s("/api/v2/users/42?x=1").any)
    }

    @Test("extract does nothing without a match or on a value that is not a string; an optional group that did not take part gives \"\"")
    func extractNoMatch() async throws {
        let yaml = "actions:\n  - {key: path, pattern: '^/(?P<first>[a-z]+)(?P<rest>/.*)?$', action: extract}"
        #expect(try await run(yaml, on: [("path", .s("no-slash"))]).count == 1)
        #expect(try await run(yaml, on: [("path", .i(5))]).count == 1)
        let partial = try await run(yaml, on: [("path", .s("/abc"))])
        #expect(partial["first"] == AttrValue.s("abc").any)
        #expect(partial["rest"] == AttrValue.s("").any)
    }

    @Test(
        "convert to int, double and string; values that do not convert stay as they were",
        arguments: [
            ("int", AttrValue.d(3.9), AttrValue.i(3)), ("int", AttrValue.d(-3.9), AttrValue.i(-3)), ("int", AttrValue.b(true), AttrValue.i(1)), ("int", AttrValue.s("-42"), AttrValue.i(-42)),
            ("int", AttrValue.s("4.5"), AttrValue.s("4.5")), ("int", AttrValue.s("12abc"), AttrValue.s("12abc")), ("int", AttrValue.i(7), AttrValue.i(7)),
            ("int", AttrValue.list([.i(1)]), AttrValue.list([.i(1)])),
            ("double", AttrValue.i(3), AttrValue.d(3)), ("double", AttrValue.b(false), AttrValue.d(0)), ("double", AttrValue.s("2.5e1"), AttrValue.d(25)),
            ("double", AttrValue.s("x"), AttrValue.s("x")),
            ("string", AttrValue.i(42), AttrValue.s("42")), ("string", AttrValue.d(1.5), AttrValue.s("1.5")), ("string", AttrValue.d(3), AttrValue.s("3")),
            ("string", AttrValue.b(true), AttrValue.s("true")), ("string", AttrValue.map([("b", .i(1)), ("a", .s("x"))]), AttrValue.s(#"{"a":"x","b":1}"#)),
        ])
    func convert(target: String, value: AttrValue, expected: AttrValue) async throws {
        let result = try await run("actions:\n  - {key: k, converted_type: \(target), action: convert}", on: [("k", value)])
        #expect(result["k"] == expected.any)
    }

    @Test("actions run in order on each item")
    func order() async throws {
        let yaml = """
            actions:
              - {key: a, value: 1, action: insert}
              - {key: b, from_attribute: a, action: insert}
              - {key: a, converted_type: string, action: convert}
              - {key: a, action: hash}
            """
        let result = try await run(yaml, on: [])
        #expect(result["b"] == AttrValue.i(1).any)
        // SHA-256 of the UTF-8 string "1".
        #expect(result["a"] == AttrValue.s("6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b").any)
    }
}

// MARK: - Signals

@Suite("Attributes processor: signals")
struct AttributesProcessorSignalTests {
    static let upsert = "actions:\n  - {key: env, value: prod, action: upsert}"

    @Test("spans: span attributes change; resource and scope attributes do not; the caller's payload is untouched")
    func spansOnly() async throws {
        let (processor, sink) = try processor(Self.upsert)
        let original = traces([span([("a", .i(1))]), span("other", [])])
        try await processor.consume(original)
        let out = try #require(sink.payloads.first)
        #expect(spans(out).allSatisfy { dict($0.attributes)["env"] == AttrValue.s("prod").any })
        #expect(out.resourceSpans[0].resource == original.resourceSpans[0].resource)
        #expect(out.resourceSpans[0].scopeSpans[0].scope == original.resourceSpans[0].scopeSpans[0].scope)
        #expect(spans(original).allSatisfy { dict($0.attributes)["env"] == nil })
    }

    @Test("log records: their attributes change, resource and scope do not")
    func logs() async throws {
        let (processor, sink) = try processor(Self.upsert, OTLPLogsRequest.self)
        var record = OTLPLogRecord()
        record.attributes = attributes([("a", .i(1))])
        var scope = OTLPScopeLogs()
        scope.scope.attributes = attributes([("s", .i(1))])
        scope.logRecords = [record, record]
        var resource = OTLPResourceLogs()
        resource.resource.attributes = attributes([("service.name", .s("svc"))])
        resource.scopeLogs = [scope]
        var request = OTLPLogsRequest()
        request.resourceLogs = [resource]
        try await processor.consume(request)
        let out = try #require(sink.payloads.first)
        #expect(out.resourceLogs[0].scopeLogs[0].logRecords.allSatisfy { dict($0.attributes)["env"] == AttrValue.s("prod").any })
        #expect(out.resourceLogs[0].resource == resource.resource)
        #expect(out.resourceLogs[0].scopeLogs[0].scope == scope.scope)
    }

    @Test("metrics: the attributes of every data point of every metric type change")
    func metrics() async throws {
        let (processor, sink) = try processor(Self.upsert, OTLPMetricsRequest.self)
        let request = Self.metricsRequest(names: ["gauge", "sum", "histogram", "exp", "summary"])
        try await processor.consume(request)
        let out = try #require(sink.payloads.first)
        let points = Self.pointAttributes(out)
        #expect(points.count == 10)
        #expect(points.allSatisfy { dict($0)["env"] == AttrValue.s("prod").any && dict($0)["p"] != nil })
        #expect(out.resourceMetrics[0].resource == request.resourceMetrics[0].resource)
    }

    /// One metric of each type per name (cycling through the types), two data points each.
    static func metricsRequest(names: [String]) -> OTLPMetricsRequest {
        var scope = OTLPScopeMetrics()
        for (index, name) in names.enumerated() {
            var metric = OTLPMetric()
            metric.name = name
            let pointAttributes = { (p: Int) in attributes([("p", .i(Int64(p)))]) }
            switch index % 5 {
            case 0:
                var points = [OTLPNumberDataPoint(), OTLPNumberDataPoint()]
                for p in points.indices { points[p].attributes = pointAttributes(p) }
                metric.gauge.dataPoints = points
            case 1:
                var points = [OTLPNumberDataPoint(), OTLPNumberDataPoint()]
                for p in points.indices { points[p].attributes = pointAttributes(p) }
                metric.sum.dataPoints = points
            case 2:
                var points = [OTLPHistogramDataPoint(), OTLPHistogramDataPoint()]
                for p in points.indices { points[p].attributes = pointAttributes(p) }
                metric.histogram.dataPoints = points
            case 3:
                var points = [OTLPExponentialHistogramDataPoint(), OTLPExponentialHistogramDataPoint()]
                for p in points.indices { points[p].attributes = pointAttributes(p) }
                metric.exponentialHistogram.dataPoints = points
            default:
                var points = [OTLPSummaryDataPoint(), OTLPSummaryDataPoint()]
                for p in points.indices { points[p].attributes = pointAttributes(p) }
                metric.summary.dataPoints = points
            }
            scope.metrics.append(metric)
        }
        var resource = OTLPResourceMetrics()
        resource.resource.attributes = attributes([("service.name", .s("svc"))])
        resource.scopeMetrics = [scope]
        var request = OTLPMetricsRequest()
        request.resourceMetrics = [resource]
        return request
    }

    /// Every data point's attributes, in order.
    static func pointAttributes(_ request: OTLPMetricsRequest) -> [[OTLPKeyValue]] {
        request.resourceMetrics.flatMap { $0.scopeMetrics.flatMap(\.metrics) }.flatMap { metric -> [[OTLPKeyValue]] in
            switch metric.data {
            case .gauge(let g)?: g.dataPoints.map(\.attributes)
            case .sum(let s)?: s.dataPoints.map(\.attributes)
            case .histogram(let h)?: h.dataPoints.map(\.attributes)
            case .exponentialHistogram(let h)?: h.dataPoints.map(\.attributes)
            case .summary(let s)?: s.dataPoints.map(\.attributes)
            case nil: []
            }
        }
    }
}

// MARK: - include / exclude

@Suite("Attributes processor: include and exclude")
struct AttributesProcessorMatchTests {
    /// Which of `spans` (by name) got the upsert under `matching` (YAML lines for include/exclude).
    private func changed(_ matching: String, service: String? = "checkout", _ items: [OTLPSpan]) async throws -> [String] {
        let (processor, sink) = try processor("actions:\n  - {key: touched, value: true, action: upsert}\n" + matching)
        try await processor.consume(traces(service: service, items))
        return spans(try #require(sink.payloads.first)).filter { dict($0.attributes)["touched"] != nil }.map(\.name)
    }

    private let mixed = [
        span("GET /users", kind: .server, [("http.status_code", .i(200)), ("user", .s("alice"))]),
        span("POST /orders", kind: .client, [("http.status_code", .i(500))]),
        span("healthz", kind: .internal, []),
    ]

    @Test("include services (strict): only spans of that service; a resource without service.name is <nil-service-name>")
    func includeServices() async throws {
        let include = "include:\n  match_type: strict\n  services: [checkout]\n"
        #expect(try await changed(include, service: "checkout", mixed).count == 3)
        #expect(try await changed(include, service: "billing", mixed).isEmpty)
        #expect(try await changed(include, service: nil, mixed).isEmpty)
        #expect(
            try await changed("include:\n  match_type: strict\n  services: ['<nil-service-name>']\n", service: nil, mixed).count == 3)
    }

    @Test("include span_names (regexp): unanchored match, any entry")
    func includeSpanNames() async throws {
        let include = "include:\n  match_type: regexp\n  span_names: ['^GET ', 'orders']\n"
        #expect(try await changed(include, mixed) == ["GET /users", "POST /orders"])
        let strict = "include:\n  match_type: strict\n  span_names: ['GET']\n"
        #expect(try await changed(strict, mixed).isEmpty)
    }

    @Test("exclude wins after include: excluded spans pass through untouched")
    func includeThenExclude() async throws {
        let config = """
            include:
              match_type: regexp
              services: ['check.*']
            exclude:
              match_type: strict
              span_names: [healthz]
            """
        #expect(try await changed(config, mixed) == ["GET /users", "POST /orders"])
    }

    @Test("attributes criteria: key presence, typed strict values (Int 200 is not \"200\"), regexp on the value's text")
    func attributeCriteria() async throws {
        let present = "include:\n  match_type: strict\n  attributes: [{key: user}]\n"
        #expect(try await changed(present, mixed) == ["GET /users"])
        let typed = "include:\n  match_type: strict\n  attributes: [{key: http.status_code, value: 500}]\n"
        #expect(try await changed(typed, mixed) == ["POST /orders"])
        let quoted = "include:\n  match_type: strict\n  attributes: [{key: http.status_code, value: \"500\"}]\n"
        #expect(try await changed(quoted, mixed).isEmpty)
        let pattern = "exclude:\n  match_type: regexp\n  attributes: [{key: http.status_code, value: '^5'}]\n"
        #expect(try await changed(pattern, mixed) == ["GET /users", "healthz"])
        let all = "include:\n  match_type: strict\n  attributes: [{key: user}, {key: http.status_code, value: 500}]\n"
        #expect(try await changed(all, mixed).isEmpty)
    }

    @Test("span_kinds, libraries (name and version) and resources")
    func kindsLibrariesResources() async throws {
        #expect(try await changed("include:\n  match_type: strict\n  span_kinds: [SPAN_KIND_CLIENT]\n", mixed) == ["POST /orders"])
        let library = "include:\n  match_type: strict\n  libraries: [{name: io.opentelemetry.http, version: '1.0'}]\n"
        #expect(try await changed(library, mixed).count == 3)
        let otherVersion = "include:\n  match_type: strict\n  libraries: [{name: io.opentelemetry.http, version: '2.0'}]\n"
        #expect(try await changed(otherVersion, mixed).isEmpty)
        let resource = "include:\n  match_type: regexp\n  resources: [{key: host.name, value: 'node-[0-9]'}]\n"
        #expect(try await changed(resource, mixed).count == 3)
        let otherResource = "include:\n  match_type: strict\n  resources: [{key: host.name, value: node-2}]\n"
        #expect(try await changed(otherResource, mixed).isEmpty)
    }

    @Test("log records: log_bodies, log_severity_texts and attributes")
    func logs() async throws {
        let (processor, sink) = try processor(
            "actions:\n  - {key: touched, value: true, action: upsert}\ninclude:\n  match_type: regexp\n  log_bodies: ['^error']\n  log_severity_texts: [ERROR, FATAL]\n",
            OTLPLogsRequest.self)
        func record(_ body: String, _ severity: String) -> OTLPLogRecord {
            var record = OTLPLogRecord()
            record.body.stringValue = body
            record.severityText = severity
            return record
        }
        var scope = OTLPScopeLogs()
        scope.logRecords = [record("error: disk full", "ERROR"), record("error: x", "INFO"), record("all good", "ERROR")]
        var resource = OTLPResourceLogs()
        resource.scopeLogs = [scope]
        var request = OTLPLogsRequest()
        request.resourceLogs = [resource]
        try await processor.consume(request)
        let records = try #require(sink.payloads.first).resourceLogs[0].scopeLogs[0].logRecords
        #expect(records.map { dict($0.attributes)["touched"] != nil } == [true, false, false])
    }

    @Test("metrics are selected by metric_names (and resources); span properties do not filter metrics")
    func metrics() async throws {
        let yaml = "actions:\n  - {key: touched, value: true, action: upsert}\nexclude:\n  match_type: regexp\n  metric_names: ['^http\\.']\n"
        let (byName, sink) = try processor(yaml, OTLPMetricsRequest.self)
        try await byName.consume(AttributesProcessorSignalTests.metricsRequest(names: ["http.duration", "cpu", "http.size"]))
        let out = try #require(sink.payloads.first)
        let touched = AttributesProcessorSignalTests.pointAttributes(out).map { dict($0)["touched"] != nil }
        #expect(touched == [false, false, true, true, false, false])

        let spansOnly = "actions:\n  - {key: touched, value: true, action: upsert}\ninclude:\n  match_type: strict\n  services: [nothing]\n"
        let (all, allSink) = try processor(spansOnly, OTLPMetricsRequest.self)
        try await all.consume(AttributesProcessorSignalTests.metricsRequest(names: ["a"]))
        let allOut = try #require(allSink.payloads.first)
        #expect(AttributesProcessorSignalTests.pointAttributes(allOut).allSatisfy { dict($0)["touched"] != nil })
    }
}

// MARK: - Validation

@Suite("Attributes processor: configuration errors")
struct AttributesProcessorValidationTests {
    static let prefix = "processors::attributes/x: error creating AttrProc"

    @Test(
        "each invalid action is reported with upstream's wording and the component's key path",
        arguments: [
            ("actions: []", #"processors::attributes/x: missing required field "actions""#),
            ("include: {match_type: strict, services: [a]}", #"processors::attributes/x: missing required field "actions""#),
            ("actions:\n  - {value: 1, action: insert}", prefix + #" due to missing required field "key" at the 0-th actions"#),
            (
                "actions:\n  - {key: a, value: 1, action: insert}\n  - {key: b, action: upsert}",
                prefix + #". Either field "value", "from_attribute" or "from_context" setting must be specified for 1-th action"#
            ),
            (
                "actions:\n  - {key: a, value: 1, from_attribute: b, action: update}",
                prefix + " due to multiple value sources being set at the 0-th actions"
            ),
            (
                "actions:\n  - {key: a, value: 1, pattern: x, action: insert}",
                prefix + #". Action "insert" does not use the "pattern" field. This must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {key: a, value: 1, converted_type: int, action: upsert}",
                prefix + #". Action "upsert" does not use the "converted_type" field. This must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {action: delete}",
                prefix + #" due to missing required field (at least one of "key" and "pattern" have to be used) at the 0-th actions"#
            ),
            (
                "actions:\n  - {key: a, value: x, action: hash}",
                prefix + #". Action "hash" does not use "value" or "from_attribute" field. These must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {key: a, from_attribute: b, action: delete}",
                prefix + #". Action "delete" does not use "value" or "from_attribute" field. These must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {pattern: '(', action: delete}",
                prefix + #". Field "pattern" has invalid pattern: "(" to be set at the 0-th actions"#
            ),
            (
                "actions:\n  - {key: a, converted_type: int, action: hash}",
                prefix + #". Action "hash" does not use the "converted_type" field. This must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {key: a, value: x, pattern: '(?P<n>x)', action: extract}",
                prefix + #". Action "extract" does not use a value source field. These must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {key: a, action: extract}",
                prefix + #" due to missing required field "pattern" for action "extract" at the 0-th action"#
            ),
            (
                "actions:\n  - {key: a, pattern: '(?P<n>x)', converted_type: int, action: extract}",
                prefix + #". Action "extract" does not use the "converted_type" field. This must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {key: a, pattern: '^[a-z]+$', action: extract}",
                prefix + #". Field "pattern" contains no named matcher groups at the 0-th actions"#
            ),
            (
                "actions:\n  - {key: a, pattern: '^(?P<n>[a-z]+)-([0-9]+)$', action: extract}",
                prefix + #". Field "pattern" contains at least one unnamed matcher group at the 0-th actions"#
            ),
            (
                "actions:\n  - {key: a, pattern: '(?P<n>[', action: extract}",
                prefix + #". Field "pattern" has invalid pattern: "(?P<n>[" to be set at the 0-th actions"#
            ),
            (
                "actions:\n  - {key: a, value: 1, action: convert}",
                prefix + #". Action "convert" does not use value sources or "pattern" field. These must not be specified for 0-th action"#
            ),
            (
                "actions:\n  - {key: a, action: convert}",
                prefix + #" due to missing required field "converted_type" for action "convert" at the 0-th action"#
            ),
            (
                "actions:\n  - {key: a, converted_type: bool, action: convert}",
                prefix + #" due to invalid value "bool" in field "converted_type" for action "convert" at the 0-th action"#
            ),
            ("actions:\n  - {key: a, action: rename}", prefix + #" due to unsupported action "rename" at the 0-th actions"#),
            ("actions:\n  - {key: a}", prefix + #" due to unsupported action "" at the 0-th actions"#),
            ("actions:\n  - {key: a, value: 1, action: insert, vaule: 2}", "processors::attributes/x::actions[0]: has invalid keys: vaule"),
            (
                "actions:\n  - {key: a, from_context: metadata.tenant, action: insert}",
                "processors::attributes/x::actions[0]::from_context: is not served by this collector yet (it needs include_metadata on the receiver)"
            ),
            ("actions: {key: a}", "processors::attributes/x::actions: expected a list, got a map"),
        ])
    func invalidActions(yaml: String, message: String) {
        let (_, errors) = decode(yaml)
        #expect(errors == [message])
    }

    @Test(
        "include/exclude problems found while decoding",
        arguments: [
            ("include: {services: [a]}", "processors::attributes/x::include: unrecognized match_type: '', valid types are: [regexp strict]"),
            (
                "exclude: {match_type: exact, services: [a]}",
                "processors::attributes/x::exclude: unrecognized match_type: 'exact', valid types are: [regexp strict]"
            ),
            ("include: {match_type: strict, service: [a]}", "processors::attributes/x::include: has invalid keys: service"),
            (
                "include: {match_type: regexp, attributes: [{key: code, value: 5}]}",
                #"processors::attributes/x::include::attributes: match_type=regexp for "code" only supports Str, but found Int"#
            ),
            (
                "include: {match_type: strict, attributes: [{value: 5}]}",
                "processors::attributes/x::include::attributes: can't have empty key in the list of attributes"
            ),
            ("include: {match_type: strict, log_severity_number: {min: INFO}}",
             "processors::attributes/x::include::log_severity_number: is not served by this collector yet"),
        ])
    func invalidMatching(properties: String, message: String) {
        let (_, errors) = decode("actions:\n  - {key: a, action: delete}\n" + properties)
        #expect(errors == [message])
    }

    @Test("an invalid span_names pattern names its key")
    func invalidPattern() {
        let (_, errors) = decode("actions:\n  - {key: a, action: delete}\ninclude: {match_type: regexp, span_names: ['(']}")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix(#"processors::attributes/x::include::span_names: error parsing regexp "(": "#) == true)
    }

    @Test(
        "properties the signal's items do not have fail when the processor is built for that signal",
        arguments: [
            ("include: {match_type: strict, services: [a]}", Signal.logs, "services, span_names, and span_kinds are not valid for log records"),
            ("exclude: {match_type: strict, span_kinds: [SPAN_KIND_SERVER]}", .logs, "services, span_names, and span_kinds are not valid for log records"),
            (
                "include: {match_type: strict, metric_names: [a]}", .logs,
                #"at least one of "attributes", "libraries", "span_kinds", "resources", "log_bodies", "log_severity_texts" or "log_severity_number" field must be specified"#
            ),
            ("include: {match_type: strict, log_bodies: [a]}", .traces, "log_bodies should not be specified for trace spans"),
            ("include: {match_type: strict, log_severity_texts: [a]}", .traces, "log_severity_texts should not be specified for trace spans"),
            (
                "include: {match_type: strict, metric_names: [a]}", .traces,
                #"at least one of "attributes", "libraries",  or "resources" field must be specified"#
            ),
            (
                "include: {match_type: strict, span_kinds: [server]}", .traces,
                "span_kinds string must match one of the standard span kinds when match_type=strict: [SPAN_KIND_CLIENT SPAN_KIND_CONSUMER SPAN_KIND_INTERNAL SPAN_KIND_PRODUCER SPAN_KIND_SERVER]"
            ),
        ])
    func signalProblems(properties: String, signal: Signal, message: String) throws {
        let (config, errors) = decode("actions:\n  - {key: a, action: delete}\n" + properties)
        #expect(errors.isEmpty)
        let expected = "processors::attributes/x: \(message) (in a \(signal.rawValue) pipeline)"
        let id = ComponentID(type: "attributes", name: "x")
        switch signal {
        case .traces:
            #expect(throws: ConfigError.self) { try AttributesProcessor<OTLPTracesRequest>(id: id, config: config, next: SinkConsumer<OTLPTracesRequest>()) }
            #expect(config.problem(for: .traces) == message)
        case .logs:
            #expect(throws: ConfigError.self) { try AttributesProcessor<OTLPLogsRequest>(id: id, config: config, next: SinkConsumer<OTLPLogsRequest>()) }
            #expect(config.problem(for: .logs) == message)
        case .metrics:
            Issue.record("no metrics case")
        }
        do {
            if signal == .logs {
                _ = try AttributesProcessor<OTLPLogsRequest>(id: id, config: config, next: SinkConsumer<OTLPLogsRequest>())
            } else {
                _ = try AttributesProcessor<OTLPTracesRequest>(id: id, config: config, next: SinkConsumer<OTLPTracesRequest>())
            }
        } catch {
            #expect(error.description == expected)
        }
        // Metrics accept every property (upstream's metric filter ignores what it does not read).
        #expect(config.problem(for: .metrics) == nil)
    }

    @Test("a full collector configuration: the processor is registered and its errors carry the key path")
    func collectorConfig() throws {
        let yaml = """
            receivers:
              otlp:
                protocols:
                  http:
            processors:
              attributes/x:
                actions:
                  - key: a
                    action: insert
            exporters:
              debug:
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [attributes/x]
                  exporters: [debug]
            """
        do {
            _ = try CollectorConfig.decode(try ConfigValue.parse(yaml: yaml))
            Issue.record("expected an error")
        } catch let error as ConfigErrors {
            #expect(error.errors.map(\.description) == [
                #"processors::attributes/x: error creating AttrProc. Either field "value", "from_attribute" or "from_context" setting must be specified for 0-th action"#
            ])
        }
        let valid = yaml.replacingOccurrences(of: "action: insert", with: "action: insert\n        value: 1")
        let config = try CollectorConfig.decode(try ConfigValue.parse(yaml: valid))
        guard case .attributes(let attributes)? = config.processors[ComponentID(type: "attributes", name: "x")] else {
            Issue.record("not decoded as attributes")
            return
        }
        #expect(attributes.actions == [AttributeAction(key: "a", kind: .insert(.value(AttrValue.i(1).any)))])
        #expect(ComponentFactory.lookup(.processor, "attributes")?.stability == [.traces: .alpha, .metrics: .alpha, .logs: .alpha])
    }

    @Test("the pipeline graph wraps the next consumer and refuses a log pipeline with span-only properties")
    func graph() throws {
        let base = """
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
            processors:
              attributes:
                actions: [{key: a, value: 1, action: insert}]
                include: {match_type: strict, services: [svc]}
            exporters:
              debug:
            service:
              pipelines:
                SIGNAL:
                  receivers: [otlp]
                  processors: [attributes]
                  exporters: [debug]
            """
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let traces = try CollectorConfig.decode(try ConfigValue.parse(yaml: base.replacingOccurrences(of: "SIGNAL", with: "traces")))
        _ = try PipelineGraph(config: traces, context: .init(logger: logger))
        let logs = try CollectorConfig.decode(try ConfigValue.parse(yaml: base.replacingOccurrences(of: "SIGNAL", with: "logs")))
        #expect(throws: ConfigError.self) { _ = try PipelineGraph(config: logs, context: .init(logger: logger)) }
    }
}

// MARK: - Value helpers

@Suite("Attributes processor: value text")
struct AttributeValueTextTests {
    @Test(
        "Go's FormatFloat(v, 'f', -1, 64)",
        arguments: [
            (1.5, "1.5"), (3, "3"), (-0.25, "-0.25"), (1e21, "1000000000000000000000"), (1e-7, "0.0000001"),
            (123456789.125, "123456789.125"), (0, "0"), (.nan, "NaN"), (-Double.infinity, "-Inf"), (1.25e-5, "0.0000125"),
        ])
    func fixedFloat(value: Double, text: String) {
        #expect(AttributeValueText.goFixedFloat(value) == text)
    }

    @Test("capture group names: named, unnamed, non-capturing, escaped and bracketed parentheses")
    func groupNames() {
        #expect(AttributePattern.captureGroupNames(#"(?P<a>x)(?<b>y)(?'c'z)"#) == ["a", "b", "c"])
        #expect(AttributePattern.captureGroupNames(#"(?:x)(?i)(?=y)(?<=z)(?<!w)\(not\)[(]"#) == [])
        #expect(AttributePattern.captureGroupNames(#"(x)(?P<n>[)(])"#) == [nil, "n"])
    }
}
