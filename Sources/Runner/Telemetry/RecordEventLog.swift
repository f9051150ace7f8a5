import Foundation
import Shared
import Synchronization
import Tracing

/// The per-record `Record processed` event without swift-log's `Logger.Metadata` dictionary: the JSON line is
/// formatted from typed values straight into the stdout writer's buffer, and the OTLP log record is built from the
/// same values. Both are exactly what `logger.info("Record processed", metadata: …)` gives through
/// `JSONLogHandler` (the tests compare them); rarer events keep going through swift-log.
struct RecordEventLog: Sendable {
    /// The typed fields of a `Record processed` event.
    struct Processed: Sendable {
        var id: RecordID
        var prediction: Double
        var latencyMs: Double
        /// Present when cost tracking is on.
        var costUSD: Double?
        var identity: SpanIdentity
    }

    let writer: OutputStreamWriter
    let sink: (any LogRecordSink)?
    let timestamps = TimestampCache()

    /// The numbers as JSON text (`JSONNumber`), formatted once for both forms.
    struct Numbers {
        var prediction: NumberText
        var latencyMs: NumberText
        var costUSD: NumberText?

        init(_ event: Processed) {
            prediction = NumberText(event.prediction)
            latencyMs = NumberText(event.latencyMs)
            costUSD = event.costUSD.map { NumberText($0) }
        }
    }

    func processed(_ event: Processed, nanos: UInt64 = DefaultTracerClock.now.nanosecondsSinceEpoch) {
        let numbers = Numbers(event)
        writer.append { Self.appendLine(event, numbers, nanos: nanos, timestamps: timestamps, to: &$0) }
        if let sink, sink.keepsRecords { sink.consume { Self.encode(event, numbers, nanos: nanos, into: &$0) } }
    }

    /// The JSON line, in `JSONLogFormatter`'s field order and number forms.
    static func appendLine(
        _ event: Processed, _ numbers: Numbers? = nil, nanos: UInt64, timestamps: TimestampCache? = nil, to out: inout [UInt8]
    ) {
        var line = ByteWriter()
        appendLine(event, numbers, nanos: nanos, timestamps: timestamps, to: &line)
        out.append(contentsOf: line.bytes)
    }

    /// The same line into raw memory (the stdout writer's buffer).
    static func appendLine(
        _ event: Processed, _ numbers: Numbers? = nil, nanos: UInt64, timestamps: TimestampCache? = nil, to out: inout ByteWriter
    ) {
        let numbers = numbers ?? Numbers(event)
        out.append(#"{"timestamp": ""#)
        if let timestamps {
            timestamps.append(nanos, to: &out)
        } else {
            var text: [UInt8] = []
            JSONLogFormatter.appendTimestamp(nanos, to: &text)
            out.append(text)
        }
        out.append(#"", "level": "INFO", "message": "Record processed", "id": "#)
        switch event.id {
        case .int(let value): out.append(decimal: value)
        case .string(let value):
            var text: [UInt8] = []
            JSONLogFormatter.appendString(value, to: &text)
            out.append(text)
        }
        out.append(#", "prediction": "#)
        numbers.prediction.withBytes { out.append($0) }
        out.append(#", "latency_ms": "#)
        numbers.latencyMs.withBytes { out.append($0) }
        if let cost = numbers.costUSD {
            out.append(#", "cost_usd": "#)
            cost.withBytes { out.append($0) }
        }
        out.append(#", "trace_id": ""#)
        event.identity.traceID.appendHex(to: &out)
        out.append(#"", "span_id": ""#)
        event.identity.spanID.appendHex(to: &out)
        out.append("\"}\n")
    }

    /// The OTLP `LogRecord`, encoded, as `JSONLogHandler.record` makes it: the numbers are `JSONNumber`s there, which
    /// become string values; the ids come from `trace_id`/`span_id`.
    static func encoded(_ event: Processed, nanos: UInt64) -> [UInt8] {
        ProtobufWriter.encode(capacity: 256) { encode(event, Numbers(event), nanos: nanos, into: &$0) }
    }

    private static func encode(_ event: Processed, _ numbers: Numbers, nanos: UInt64, into writer: inout ProtobufWriter) {
        if nanos != 0 { writer.fixed64(1, nanos) }
        writer.int(2, Int64(Opentelemetry_Proto_Logs_V1_SeverityNumber.info.rawValue))
        writer.string(3, literal: "INFO")
        writer.message(5) { $0.string(1, literal: "Record processed") }
        writer.message(6) { writer in
            writer.string(1, literal: "id")
            writer.message(2) { writer in
                switch event.id {
                case .int(let value): writer.int(3, value)
                case .string(let value): writer.string(1, value)
                }
            }
        }
        func number(_ key: StaticString, _ text: NumberText) {
            writer.message(6) { writer in
                writer.string(1, literal: key)
                writer.message(2) { writer in text.withBytes { writer.bytes(1, $0) } }
            }
        }
        number("prediction", numbers.prediction)
        number("latency_ms", numbers.latencyMs)
        if let cost = numbers.costUSD { number("cost_usd", cost) }
        writer.traceID(9, event.identity.traceID)
        writer.spanID(10, event.identity.spanID)
        if nanos != 0 { writer.fixed64(11, nanos) }
    }
}

/// A finite number's shortest round-trip text (what `JSONNumber` and `Double.description` print), formatted by the
/// standard library into inline storage, with no `String` made; `null` for NaN and infinities, as `JSONNumber`.
struct NumberText: TextOutputStream, Sendable {
    /// 48 bytes: a `Double`'s text is at most 24.
    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    private(set) var count = 0

    init(_ value: Double) {
        if value.isFinite { value.write(to: &self) } else { write("null") }
    }

    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { _writeASCII($0) }
    }

    /// What `Double.write(to:)` calls with the digits: copied at once.
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        let start = count
        precondition(start + buffer.count <= 48, "number text longer than 48 bytes")
        withUnsafeMutableBytes(of: &storage) { UnsafeMutableRawBufferPointer(rebasing: $0[start...]).copyMemory(from: UnsafeRawBufferPointer(buffer)) }
        count += buffer.count
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        withUnsafeBytes(of: storage) { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}

/// The timestamp's `2024-01-15T10:32:00.` part for the last second seen: it changes once a second, so `gmtime_r`
/// and its digits run once a second instead of once a line. Same text as `JSONLogFormatter.appendTimestamp`.
final class TimestampCache: Sendable {
    private struct State {
        var second = UInt64.max
        var prefix: [UInt8] = []
    }

    private let state = Mutex(State())

    func append(_ nanos: UInt64, to out: inout [UInt8]) {
        var text = ByteWriter(capacity: 32)
        append(nanos, to: &text)
        out.append(contentsOf: text.bytes)
    }

    func append(_ nanos: UInt64, to out: inout ByteWriter) {
        let second = nanos / 1_000_000_000
        state.withLock { state in
            if state.second != second {
                var text: [UInt8] = []
                JSONLogFormatter.appendTimestamp(second * 1_000_000_000, to: &text)
                state.prefix = Array(text.dropLast(4))  // "000Z"
                state.second = second
            }
            out.append(state.prefix)
        }
        let millis = Int(nanos / 1_000_000 % 1000)
        out.append(UInt8(ascii: "0") + UInt8(millis / 100))
        out.append(UInt8(ascii: "0") + UInt8(millis / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(millis % 10))
        out.append(UInt8(ascii: "Z"))
    }
}
