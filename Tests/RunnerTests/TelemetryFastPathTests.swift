import Foundation
import Logging
import NIOCore
import Shared
import SwiftProtobuf
import Testing
import Tracing

@testable import Runner

/// The runner's hand-written hot paths against the general ones they replace: same bytes, same messages.
struct TelemetryFastPathTests {
    static let identity = SpanIdentity(
        traceID: TraceID(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210), spanID: SpanID(value: 0x00a0_0b00_c00d_00e0))

    // MARK: - Record processed

    static let events: [RecordEventLog.Processed] = [
        .init(id: .int(1), prediction: 6.0, latencyMs: 0.000_281_25, costUSD: 2.8125e-07, identity: identity),
        .init(id: .int(-42), prediction: 15.5, latencyMs: 12.75, costUSD: nil, identity: identity),
        .init(id: .string("a \"quoted\"\tid\u{1}é"), prediction: 1e21, latencyMs: 0, costUSD: 0.1, identity: identity),
    ]

    /// What the swift-log path logs for `event` (the metadata BatchJob built before the typed path).
    static func metadata(_ event: RecordEventLog.Processed) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "id": BatchJob.metadata(event.id), "prediction": .number(event.prediction), "latency_ms": .number(event.latencyMs),
            "trace_id": .string(event.identity.traceID.hex), "span_id": .string(event.identity.spanID.hex),
        ]
        if let cost = event.costUSD { metadata["cost_usd"] = .number(cost) }
        return metadata
    }

    @Test(arguments: events)
    func recordProcessedLineIsTheSwiftLogLine(event: RecordEventLog.Processed) {
        let nanos: UInt64 = 1_705_314_720_123_456_789
        var line: [UInt8] = []
        RecordEventLog.appendLine(event, nanos: nanos, to: &line)
        let expected = JSONLogFormatter.line(timestampNanos: nanos, level: .info, message: "Record processed", metadata: Self.metadata(event))
        #expect(String(decoding: line, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    @Test(arguments: events)
    func recordProcessedLogRecordIsTheSwiftLogRecord(event: RecordEventLog.Processed) throws {
        let nanos: UInt64 = 1_705_314_720_123_456_789
        let expected = JSONLogHandler.record(nanos: nanos, level: .info, message: "Record processed", metadata: Self.metadata(event))
        let encoded = RecordEventLog.encoded(event, nanos: nanos)
        #expect(encoded == ProtobufWriter.encode(capacity: 0) { OTLPProtobufEncoder.logRecord(expected, into: &$0) })
        #expect(try OTLPLogRecord(serializedBytes: encoded) == expected)
    }

    @Test func recordingSpanEncodesAsItsMessage() throws {
        var parent = InstrumentationContext.topLevel
        parent.spanIdentity = SpanIdentity(traceID: Self.identity.traceID, spanID: SpanID(value: 99))
        let span = RecordingSpan(
            name: "process_record", context: parent, identity: Self.identity, parentSpanID: SpanID(value: 99), kind: .client,
            startNanos: 1_000, sink: NoSpanSink())
        span.setAttribute("record.id", .int64(-7))
        span.setAttribute("prediction", .double(6.5))
        span.setAttribute("flag", .bool(true))
        span.setAttribute("small", .int32(3))
        span.setAttribute("text", .string(String(repeating: "t", count: 200)))
        span.setAttribute("list", .int64Array([1, 2]))
        span.setAttribute("prediction", .double(7.5))
        span.addEvent(SpanEvent(name: "cost_per_record_over_target", attributes: ["target_usd": .double(0.5)]))
        span.addLink(SpanLink(context: parent, attributes: ["kind": .string("root")]))
        span.addLink(SpanLink(context: .topLevel, attributes: [:]))
        span.setStatus(SpanStatus(code: .error, message: "2 records failed"))
        for endNanos: UInt64 in [500, 2_000] {
            let (encoded, reference) = span.snapshot(endNanos: endNanos)
            var writer = ProtobufWriter()
            OTLPProtobufEncoder.span(reference, into: &writer)
            #expect(encoded == writer.bytes)
            #expect(encoded == (try reference.serializedBytes()))
            #expect(try OTLPSpan(serializedBytes: encoded) == reference)
        }
        let bare = RecordingSpan(name: "", context: .topLevel, identity: Self.identity, parentSpanID: nil, kind: .internal, startNanos: 0, sink: NoSpanSink())
        let (encoded, reference) = bare.snapshot(endNanos: 0)
        #expect(encoded == (try reference.serializedBytes()))
    }

    /// The job's path: literal keys through `appendNewAttributes` (every kind `RecordedAttribute` keeps in its own
    /// fields, and one it boxes), then a later `setAttribute` replacing one of them in place.
    @Test func appendedLiteralAttributesEncodeAsTheirMessage() throws {
        let span = RecordingSpan(
            name: "process_record", context: .topLevel, identity: Self.identity, parentSpanID: nil, kind: .internal, startNanos: 1_000,
            sink: NoSpanSink())
        span.appendNewAttributes { attributes in
            attributes.append("record.id", .string("rec-42"))
            attributes.append("job.shard.index", .int64(3))
            attributes.append("ok", .bool(false))
            attributes.append("prediction", 0.1 + 0.2)
            attributes.append("list", .stringArray(["a", "b"]))
        }
        span.setAttribute("ok", .bool(true))
        let (encoded, reference) = span.snapshot(endNanos: 2_000)
        #expect(reference.attributes.map(\.key) == ["record.id", "job.shard.index", "ok", "prediction", "list"])
        #expect(reference.attributes[2].value.boolValue == true)
        #expect(reference.attributes[3].value.doubleValue == 0.1 + 0.2)
        #expect(reference.attributes[4].value.arrayValue.values.map(\.stringValue) == ["a", "b"])
        #expect(encoded == (try reference.serializedBytes()))
        #expect(span.attributes.get("record.id") == .string("rec-42"))
    }

    @Test func requestsAroundEncodedItemsAreTheMessages() throws {
        let traces = Self.tracesRequest
        let spans = traces.resourceSpans[0].scopeSpans[0].spans
        var encodedSpans = EncodedItems(chunkCapacity: spans.count)
        for span in spans { encodedSpans.append { OTLPProtobufEncoder.span(span, into: &$0) } }
        var expectedTraces = OTLPTracesRequest()
        var resourceSpans = OTLPResourceSpans()
        resourceSpans.resource = Self.resource.resource
        var scopeSpans = OTLPScopeSpans()
        scopeSpans.scope = Self.resource.scope
        scopeSpans.spans = spans
        resourceSpans.scopeSpans = [scopeSpans]
        expectedTraces.resourceSpans = [resourceSpans]
        let encodedTraces = OTLPProtobufEncoder.request(resource: Self.resource, items: encodedSpans.takeBatch(maxCount: spans.count))
        #expect(Array(encodedTraces.readableBytesView) == (try expectedTraces.serializedBytes()))

        let records = Self.logsRequest.resourceLogs[0].scopeLogs[0].logRecords
        var expectedLogs = OTLPLogsRequest()
        var resourceLogs = OTLPResourceLogs()
        resourceLogs.resource = Self.resource.resource
        var scopeLogs = OTLPScopeLogs()
        scopeLogs.scope = Self.resource.scope
        scopeLogs.logRecords = records
        resourceLogs.scopeLogs = [scopeLogs]
        expectedLogs.resourceLogs = [resourceLogs]
        var encodedRecords = EncodedItems(chunkCapacity: records.count, chunkBytes: 1)
        for record in records { encodedRecords.append { OTLPProtobufEncoder.logRecord(record, into: &$0) } }
        #expect(encodedRecords.count == records.count)
        let batch = encodedRecords.takeBatch(maxCount: records.count)
        #expect(batch.count == records.count && encodedRecords.count == 0)
        let encodedLogs = Array(OTLPProtobufEncoder.request(resource: Self.resource, items: batch).readableBytesView)
        #expect(encodedLogs == (try expectedLogs.serializedBytes()))
        #expect(try OTLPLogsRequest(serializedBytes: encodedLogs) == expectedLogs)
    }

    @Test func cachedTimestampsAreTheFormattersText() {
        let cache = TimestampCache()
        for nanos: UInt64 in [1_705_314_720_123_456_789, 1_705_314_720_999_999_999, 1_705_314_721_000_000_000, 1_705_314_721_007_000_000, 0, 951_782_400_050_000_000] {
            var cached: [UInt8] = []
            cache.append(nanos, to: &cached)
            var expected: [UInt8] = []
            JSONLogFormatter.appendTimestamp(nanos, to: &expected)
            #expect(String(decoding: cached, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    @Test func identifiersAsHexAndData() {
        let id = Self.identity
        #expect(id.traceID.hex == "0123456789abcdeffedcba9876543210")
        #expect(id.spanID.hex == "00a00b00c00d00e0")
        #expect(id.traceID.data == Data([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10]))
        #expect(id.spanID.data == Data([0x00, 0xa0, 0x0b, 0x00, 0xc0, 0x0d, 0x00, 0xe0]))
        var out: [UInt8] = []
        id.traceID.appendHex(to: &out)
        id.spanID.appendHex(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == id.traceID.hex + id.spanID.hex)
    }

    // MARK: - Protobuf encoding

    static func value(_ build: (inout OTLPAnyValue) -> Void) -> OTLPAnyValue {
        var value = OTLPAnyValue()
        build(&value)
        return value
    }

    /// Every kind of attribute value, nested ones included.
    static var attributes: [OTLPKeyValue] {
        var list = OTLPKeyValueList()
        list.values = [OTLPAttributes.int("n", -1), OTLPAttributes.string("", "")]
        var array = OTLPArrayValue()
        array.values = [value { $0.boolValue = false }, value { $0.doubleValue = -0.0 }, value { $0.stringValue = String(repeating: "x", count: 300) }]
        var noValue = OTLPKeyValue()
        noValue.key = "no value"
        noValue.keyStrindex = -3
        return [
            OTLPAttributes.string("s", "text é"), OTLPAttributes.int("i", Int64.min), OTLPAttributes.double("d", 6.25), OTLPAttributes.bool("b", true),
            OTLPAttributes.keyValue("kv", value { $0.kvlistValue = list }), OTLPAttributes.keyValue("a", value { $0.arrayValue = array }),
            OTLPAttributes.keyValue("bytes", value { $0.bytesValue = Data([0, 1, 2]) }), OTLPAttributes.keyValue("empty bytes", value { $0.bytesValue = Data() }),
            OTLPAttributes.keyValue("strindex", value { $0.stringValueStrindex = 7 }), noValue,
        ]
    }

    static var resource: TelemetryResource {
        TelemetryResource(attributes: [("service.name", "batch-inference"), ("deployment.environment", "test")])
    }

    static var tracesRequest: OTLPTracesRequest {
        var full = OTLPSpan()
        full.traceID = identity.traceID.data
        full.spanID = identity.spanID.data
        full.parentSpanID = SpanID(value: 7).data
        full.traceState = "k=v"
        full.name = "process_record"
        full.kind = .internal
        full.startTimeUnixNano = 1
        full.endTimeUnixNano = UInt64.max
        full.attributes = attributes
        full.droppedAttributesCount = 1
        var event = OTLPSpan.Event()
        event.name = "exception"
        event.timeUnixNano = 5
        event.attributes = [OTLPAttributes.string("exception.message", "boom")]
        event.droppedAttributesCount = 300
        full.events = [event, OTLPSpan.Event()]
        full.droppedEventsCount = 2
        var link = OTLPSpan.Link()
        link.traceID = identity.traceID.data
        link.spanID = identity.spanID.data
        link.traceState = "a=b"
        link.attributes = [OTLPAttributes.bool("sampled", false)]
        link.droppedAttributesCount = 3
        link.flags = 0x301
        full.links = [link]
        full.droppedLinksCount = 4
        var status = OTLPStatus()
        status.code = .error
        status.message = "failed"
        full.status = status
        full.flags = 0x100
        var huge = OTLPSpan()
        huge.name = "huge"
        huge.attributes = [OTLPAttributes.string("payload", String(repeating: "y", count: 70_000))]
        var emptyStatus = OTLPSpan()
        emptyStatus.status = OTLPStatus()
        var scopeSpans = OTLPScopeSpans()
        scopeSpans.scope = resource.scope
        scopeSpans.spans = [full, OTLPSpan(), huge, emptyStatus] + (0..<200).map { index in
            var span = full
            span.name = "span \(index)"
            return span
        }
        scopeSpans.schemaURL = "https://opentelemetry.io/schemas/1.0.0"
        var resourceSpans = OTLPResourceSpans()
        resourceSpans.resource = resource.resource
        resourceSpans.scopeSpans = [scopeSpans, OTLPScopeSpans()]
        resourceSpans.schemaURL = "r"
        var request = OTLPTracesRequest()
        request.resourceSpans = [resourceSpans, OTLPResourceSpans()]
        return request
    }

    static var logsRequest: OTLPLogsRequest {
        var full = OTLPLogRecord()
        full.timeUnixNano = 1_705_314_720_123_456_789
        full.observedTimeUnixNano = 2
        full.severityNumber = .error
        full.severityText = "ERROR"
        full.body = value { $0.stringValue = "Record failed" }
        full.attributes = attributes
        full.droppedAttributesCount = 9
        full.flags = 1
        full.traceID = identity.traceID.data
        full.spanID = identity.spanID.data
        full.eventName = "event"
        var scopeLogs = OTLPScopeLogs()
        scopeLogs.scope = resource.scope
        scopeLogs.logRecords = [full, OTLPLogRecord()]
        var resourceLogs = OTLPResourceLogs()
        resourceLogs.resource = resource.resource
        resourceLogs.scopeLogs = [scopeLogs]
        var request = OTLPLogsRequest()
        request.resourceLogs = [resourceLogs]
        return request
    }

    @Test func tracesEncodeAsSwiftProtobufDoes() throws {
        let request = Self.tracesRequest
        let bytes = OTLPProtobufEncoder.encode(request)
        let expected: [UInt8] = try request.serializedBytes()
        #expect(bytes.count == expected.count)
        #expect(bytes == expected)
        #expect(try OTLPTracesRequest(serializedBytes: bytes) == request)
        #expect(OTLPProtobufEncoder.encode(OTLPTracesRequest()).isEmpty)
    }

    @Test func logsEncodeAsSwiftProtobufDoes() throws {
        let request = Self.logsRequest
        let bytes = OTLPProtobufEncoder.encode(request)
        let expected: [UInt8] = try request.serializedBytes()
        #expect(bytes == expected)
        #expect(try OTLPLogsRequest(serializedBytes: bytes) == request)
    }

    @Test func lengthsOfEveryWidth() throws {
        for count in [0, 1, 126, 127, 128, 129, 16_382, 16_383, 16_384, 2_097_152] {
            var span = OTLPSpan()
            span.name = String(repeating: "n", count: count)
            var scope = OTLPScopeSpans()
            scope.spans = [span]
            var resource = OTLPResourceSpans()
            resource.scopeSpans = [scope]
            var request = OTLPTracesRequest()
            request.resourceSpans = [resource]
            let expected: [UInt8] = try request.serializedBytes()
            #expect(OTLPProtobufEncoder.encode(request) == expected, "name of \(count) bytes")
        }
    }

    /// Lent memory (an array's or a `ByteBuffer`'s) that turns out too small: the writer goes on in memory of its own
    /// and every byte arrives, whatever the capacity guessed.
    @Test func writersOutgrowingLentMemoryKeepEveryByte() throws {
        var expected = OTLPKeyValue()
        expected.key = String(repeating: "k", count: 300)
        expected.value.stringValue = String(repeating: "v", count: 200)
        let write: (inout ProtobufWriter) -> Void = { writer in
            writer.string(1, expected.key)
            writer.message(2) { $0.string(1, expected.value.stringValue) }
        }
        let reference: [UInt8] = try expected.serializedBytes()
        for capacity in [0, 1, 64, 505, 506, 4096] {
            #expect(ProtobufWriter.encode(capacity: capacity, write) == reference, "array, capacity \(capacity)")
            let buffer = ProtobufWriter.encodeBuffer(capacity: capacity, write)
            #expect(Array(buffer.readableBytesView) == reference, "ByteBuffer, capacity \(capacity)")
        }
        var owned = ProtobufWriter(capacity: 1)
        write(&owned)
        #expect(owned.bytes == reference)
        #expect(try OTLPKeyValue(serializedBytes: reference) == expected)
    }
}
