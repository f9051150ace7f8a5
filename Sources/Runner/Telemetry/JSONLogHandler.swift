import Foundation
import Logging
import Shared
import Tracing

/// Where log events go besides stdout (the OTLP log batch queue).
protocol LogRecordSink: Sendable {
    /// Takes one log record: the `LogRecord` message `body` writes, in place (for the queue: into its `EncodedItems`).
    func consume(encoding body: (inout ProtobufWriter) -> Void)
    /// False when records are thrown away unread: callers then need not encode them.
    var keepsRecords: Bool { get }
}

extension LogRecordSink {
    var keepsRecords: Bool { true }
}

/// A swift-log handler writing one JSON object per line (the lab's shape) and, when a sink is set, the same
/// event as an OTLP log record carrying the trace and span ids of the `trace_id`/`span_id` fields or of
/// the current span.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info
    let writer: OutputStreamWriter
    let sink: (any LogRecordSink)?

    init(writer: OutputStreamWriter, sink: (any LogRecordSink)? = nil, logLevel: Logger.Level = .info) {
        self.writer = writer
        self.sink = sink
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let eventMetadata = event.metadata { merged.merge(eventMetadata) { _, new in new } }
        let message = event.message.description
        writer.write(JSONLogFormatter.line(timestampNanos: now, level: event.level, message: message, metadata: merged))
        if let sink {
            let record = Self.record(nanos: now, level: event.level, message: message, metadata: merged)
            sink.consume { OTLPProtobufEncoder.logRecord(record, into: &$0) }
        }
    }

    /// The OTLP form: body = message, attributes = fields (except the ids, which go in their own fields).
    static func record(nanos: UInt64, level: Logger.Level, message: String, metadata: Logger.Metadata) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        record.timeUnixNano = nanos
        record.observedTimeUnixNano = nanos
        record.severityText = JSONLogFormatter.levelName(level)
        record.severityNumber = severity(level)
        var body = OTLPAnyValue()
        body.stringValue = message
        record.body = body
        var identity = InstrumentationContext.current?.spanIdentity
        if case .string(let hex)? = metadata["trace_id"], let data = Hex.decode(Array(hex.utf8)), data.count == 16 {
            record.traceID = data
            identity = nil
        }
        if case .string(let hex)? = metadata["span_id"], let data = Hex.decode(Array(hex.utf8)), data.count == 8 {
            record.spanID = data
        }
        if let identity {
            record.traceID = identity.traceID.data
            record.spanID = identity.spanID.data
        }
        record.attributes = JSONLogFormatter.ordered(metadata).compactMap { key, value in
            key == "trace_id" || key == "span_id" ? nil : OTLPAttributes.keyValue(key, OTLPAttributes.value(value))
        }
        return record
    }

    private static func severity(_ level: Logger.Level) -> Opentelemetry_Proto_Logs_V1_SeverityNumber {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .info2
        case .warning: .warn
        case .error: .error
        case .critical: .fatal
        }
    }
}
