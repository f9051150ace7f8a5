#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Shared
import Synchronization

/// The `debug` exporter (and the `logging` alias): for each batch, one summary line in the shape the
/// lab's users grep for, then, with `normal` or `detailed` verbosity, upstream's text dump of the data.
///
/// ```
/// 2024-01-15T10:32:00.600Z	info	TracesExporter	{"kind": "exporter", "data_type": "traces", "name": "debug", "resource spans": 1, "spans": 2}
/// ```
/// The dump follows as one more entry framed like upstream's console logger: the first line prefixed
/// by time and level, the body verbatim, then a tab and the component's fields. Summary and dump are
/// written in one piece, so concurrent exporters never interleave inside a batch.
struct DebugExporter<Payload: PipelinePayload>: Consumer where Payload.Request: DebugPrintable {
    let id: ComponentID
    let config: DebugExporterConfig
    let output: LogOutput
    private let sampler: Sampler

    init(id: ComponentID, config: DebugExporterConfig, output: LogOutput) {
        self.id = id
        self.config = config
        self.output = output
        self.sampler = Sampler(initial: config.samplingInitial, thereafter: config.samplingThereafter)
    }

    func consume(_ payload: Payload) async throws {
        guard sampler.admit() else { return }
        let text: String
        do {
            text = try render(payload)
        } catch {
            throw ConsumerError.permanent(error.description)
        }
        output.write(text)
    }

    /// The text written for one batch (summary line, then the dump when verbosity asks for one). Only the
    /// dumps need the data decoded; the summary comes from the counts.
    func render(_ payload: Payload, time: Date = Date()) throws(OTLPDecodingError) -> String {
        let signal = Payload.signal
        let message = Payload.Request.summaryMessage
        let summary = Payload.Request.summaryFields(
            resources: payload.resourceCount, metrics: payload.metricCount, items: payload.itemCount)
        var text: String
        let body: String? =
            switch config.verbosity {
            case .basic: nil
            case .normal: try payload.request().normalText()
            case .detailed: try payload.request().detailedText()
            }
        if config.useInternalLogger {
            let component: [(String, ConsoleLogFormat.Value)] = [
                ("kind", .string("exporter")), ("data_type", .string(signal.rawValue)), ("name", .string(id.description)),
            ]
            text = ConsoleLogFormat.line(time: time, level: "info", message: message, fields: component + summary)
            if let body, !body.isEmpty {
                text += ConsoleLogFormat.line(time: time, level: "info", message: body, fields: component)
            }
        } else {
            text = message + "\t" + ConsoleLogFormat.json(summary) + "\n"
            if let body, !body.isEmpty { text += body + "\n" }
        }
        return text
    }
}

/// zap-style sampling per one-second tick (reference §6.1): the first `initial` batches of a tick are
/// printed, then every `thereafter`-th. With the default `thereafter: 1` everything is printed.
final class Sampler: Sendable {
    private let initial: Int
    private let thereafter: Int
    private let state = Mutex<(second: Int64, count: Int)>((0, 0))

    init(initial: Int, thereafter: Int) {
        self.initial = initial
        self.thereafter = thereafter
    }

    func admit(now: Date = Date()) -> Bool {
        if thereafter == 1 { return true }
        let second = Int64(now.timeIntervalSince1970)
        let count = state.withLock { state -> Int in
            if state.second != second { state = (second, 0) }
            state.count += 1
            return state.count
        }
        if count <= initial { return true }
        return thereafter > 0 && (count - initial) % thereafter == 0
    }
}

// MARK: - Per-signal text

/// A request the debug exporter can print: the summary line's message and fields, and the two dump formats.
protocol DebugPrintable: SignalPayload {
    /// `TracesExporter`, `MetricsExporter`, `LogsExporter`.
    static var summaryMessage: String { get }
    static func summaryFields(resources: Int, metrics: Int, items: Int) -> [(String, ConsoleLogFormat.Value)]
    func normalText() -> String
    func detailedText() -> String
}

extension OTLPTracesRequest: DebugPrintable {
    static var summaryMessage: String { "TracesExporter" }
    static func summaryFields(resources: Int, metrics: Int, items: Int) -> [(String, ConsoleLogFormat.Value)] {
        [("resource spans", .int(resources)), ("spans", .int(items))]
    }
    func normalText() -> String { NormalTextFormatter.format(resourceSpans) }
    func detailedText() -> String { DetailedTextFormatter.format(resourceSpans) }
}

extension OTLPMetricsRequest: DebugPrintable {
    static var summaryMessage: String { "MetricsExporter" }
    static func summaryFields(resources: Int, metrics: Int, items: Int) -> [(String, ConsoleLogFormat.Value)] {
        [("resource metrics", .int(resources)), ("metrics", .int(metrics)), ("data points", .int(items))]
    }
    func normalText() -> String { NormalTextFormatter.format(resourceMetrics) }
    func detailedText() -> String { DetailedTextFormatter.format(resourceMetrics) }
}

extension OTLPLogsRequest: DebugPrintable {
    static var summaryMessage: String { "LogsExporter" }
    static func summaryFields(resources: Int, metrics: Int, items: Int) -> [(String, ConsoleLogFormat.Value)] {
        [("resource logs", .int(resources)), ("log records", .int(items))]
    }
    func normalText() -> String { NormalTextFormatter.format(resourceLogs) }
    func detailedText() -> String { DetailedTextFormatter.format(resourceLogs) }
}
