import CoreMetrics
import Prometheus
import Shared
import Synchronization

/// The collector's own metrics (reference §1.13, §3.5, §4.5, §9.3), recorded through swift-metrics into a
/// swift-prometheus registry and served as Prometheus text by `MetricsServer`.
///
/// The factory is injected, never bootstrapped globally, so every test can own an isolated registry.
/// Instruments are made once, when the pipelines are built; on the data path a component only
/// increments them (an atomic add per request or per batch, no lock). An instrument whose level is
/// above the configured `level` is made with swift-metrics' no-op factory: it is never served.
///
/// Names are upstream's as its default Prometheus reader shows them: no `_total`, no unit suffix.
/// A reader with `without_type_suffix: false` adds `_total` to counters; `without_units: false` adds
/// `_seconds` / `_bytes` to the process metrics that have a unit.
final class CollectorTelemetry: Sendable {
    typealias Level = TelemetryMetricsConfig.Level

    /// `otelcol_processor_batch_batch_send_size` buckets, upstream's (reference §3.5).
    static let batchSendSizeBuckets: [Double] = [
        10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000,
        50000, 100_000,
    ]
    static let batchSendSizeName = "otelcol_processor_batch_batch_send_size"

    let level: Level
    let registry: PrometheusCollectorRegistry
    private let prometheus: PrometheusMetricsFactory
    private let typeSuffix: Bool
    private let units: Bool
    private let process: ProcessMetrics?

    /// - Parameters:
    ///   - level: metrics above this level are not recorded; `none` records nothing.
    ///   - reader: the Prometheus reader's naming options (`without_type_suffix`, `without_units`).
    ///   - registry: where the metrics live; tests pass their own.
    init(
        level: Level, reader: TelemetryMetricsConfig.PrometheusReader = .init(),
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        processStats: ProcessMetrics.Reading? = nil
    ) {
        self.level = level
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = [Self.batchSendSizeName: Self.batchSendSizeBuckets]
        self.prometheus = factory
        self.typeSuffix = !reader.withoutTypeSuffix
        self.units = !reader.withoutUnits
        let enabled = level >= .basic
        self.process =
            enabled
            ? ProcessMetrics(
                uptime: CoreMetrics.FloatingPointCounter(
                    label: "otelcol_process_uptime" + (units ? "_seconds" : "") + (typeSuffix ? "_total" : ""), factory: factory),
                cpuSeconds: CoreMetrics.FloatingPointCounter(label: "otelcol_process_cpu_seconds" + (typeSuffix ? "_total" : ""), factory: factory),
                memoryRSS: CoreMetrics.Gauge(label: "otelcol_process_memory_rss" + (units ? "_bytes" : ""), factory: factory),
                read: processStats ?? ProcessMetrics.systemReading())
            : nil
    }

    /// From `service.telemetry.metrics`.
    convenience init(config: TelemetryMetricsConfig, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.init(level: config.isEnabled ? config.level : .none, reader: config.reader ?? .init(), registry: registry)
    }

    /// Records nothing (tests and `level: none`).
    static var disabled: CollectorTelemetry { CollectorTelemetry(level: .none) }

    // MARK: - Instruments per component

    private func factory(_ required: Level) -> any MetricsFactory {
        level >= required && level > .none ? prometheus : NOOPMetricsHandler.instance
    }

    private func counter(_ name: String, _ dimensions: [(String, String)], level required: Level = .basic) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name + (typeSuffix ? "_total" : ""), dimensions: dimensions, factory: factory(required))
    }

    /// `otelcol_receiver_{accepted,refused}_<unit>{receiver, transport}` (basic).
    func receiver(_ id: ComponentID, transport: String, signal: Signal) -> ReceiverMetrics {
        let dimensions = [("receiver", id.description), ("transport", transport)]
        return ReceiverMetrics(
            accepted: counter("otelcol_receiver_accepted_\(signal.unitName)", dimensions),
            refused: counter("otelcol_receiver_refused_\(signal.unitName)", dimensions))
    }

    /// `otelcol_exporter_{sent,send_failed}_<unit>{exporter}` (basic).
    func exporter(_ id: ComponentID, signal: Signal) -> ExporterMetrics {
        let dimensions = [("exporter", id.description)]
        return ExporterMetrics(
            sent: counter("otelcol_exporter_sent_\(signal.unitName)", dimensions),
            sendFailed: counter("otelcol_exporter_send_failed_\(signal.unitName)", dimensions))
    }

    /// `otelcol_processor_batch_*{processor}` (normal and above, as upstream since v0.122.0).
    func batch(_ id: ComponentID) -> BatchMetrics {
        let dimensions = [("processor", id.description)]
        return BatchMetrics(
            sendSize: CoreMetrics.Recorder(label: Self.batchSendSizeName, dimensions: dimensions, aggregate: true, factory: factory(.normal)),
            sizeTriggerSends: counter("otelcol_processor_batch_batch_size_trigger_send", dimensions, level: .normal),
            timeoutTriggerSends: counter("otelcol_processor_batch_timeout_trigger_send", dimensions, level: .normal))
    }

    /// `otelcol_processor_memory_limiter_{accepted,refused}_<unit>{processor}` (basic).
    func memoryLimiter(_ id: ComponentID, signal: Signal) -> MemoryLimiterMetrics {
        let dimensions = [("processor", id.description)]
        return MemoryLimiterMetrics(
            accepted: counter("otelcol_processor_memory_limiter_accepted_\(signal.unitName)", dimensions),
            refused: counter("otelcol_processor_memory_limiter_refused_\(signal.unitName)", dimensions))
    }

    // MARK: - Exposition

    /// The Prometheus text of every metric, process metrics read now.
    func render() -> [UInt8] {
        process?.update()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4096)
        registry.emit(into: &buffer)
        return buffer
    }
}

// MARK: - Instrument bundles

/// What the OTLP receiver counts per request with items: accepted when the pipeline took the data,
/// refused when it returned any error (decode failures, 4xx, are not counted, as upstream's).
struct ReceiverMetrics: Sendable {
    let accepted: CoreMetrics.Counter
    let refused: CoreMetrics.Counter
}

/// What an exporter counts per batch: sent, or send failed.
struct ExporterMetrics: Sendable {
    let sent: CoreMetrics.Counter
    let sendFailed: CoreMetrics.Counter
}

/// A batch processor's sends: items per batch, and which trigger sent it.
struct BatchMetrics: Sendable {
    let sendSize: CoreMetrics.Recorder
    let sizeTriggerSends: CoreMetrics.Counter
    let timeoutTriggerSends: CoreMetrics.Counter
}

/// A memory limiter's decisions on data that reached it, in items.
struct MemoryLimiterMetrics: Sendable {
    let accepted: CoreMetrics.Counter
    let refused: CoreMetrics.Counter
}

/// `otelcol_process_*`, observed when scraped (upstream's are observable instruments too).
final class ProcessMetrics: Sendable {
    /// Uptime in seconds, CPU seconds (user + system), resident bytes.
    typealias Reading = @Sendable () -> (uptime: Double, cpuSeconds: Double, residentBytes: Double)

    private let uptime: CoreMetrics.FloatingPointCounter
    private let cpuSeconds: CoreMetrics.FloatingPointCounter
    private let memoryRSS: CoreMetrics.Gauge
    private let read: Reading
    /// What the counters hold already (they only go up; each scrape adds the difference).
    private let reported = Mutex<(uptime: Double, cpuSeconds: Double)>((0, 0))

    init(uptime: CoreMetrics.FloatingPointCounter, cpuSeconds: CoreMetrics.FloatingPointCounter, memoryRSS: CoreMetrics.Gauge, read: @escaping Reading) {
        self.uptime = uptime
        self.cpuSeconds = cpuSeconds
        self.memoryRSS = memoryRSS
        self.read = read
    }

    /// This process: uptime since the telemetry was made, `getrusage` CPU time, `VmRSS`.
    static func systemReading() -> Reading {
        let start = ContinuousClock.now
        return {
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return (seconds, ProcessStats.cpuTimeSeconds(), ProcessStats.residentBytes() ?? 0)
        }
    }

    func update() {
        let now = read()
        let (uptimeDelta, cpuDelta) = reported.withLock { reported -> (Double, Double) in
            let deltas = (max(0, now.uptime - reported.uptime), max(0, now.cpuSeconds - reported.cpuSeconds))
            reported = (max(reported.uptime, now.uptime), max(reported.cpuSeconds, now.cpuSeconds))
            return deltas
        }
        if uptimeDelta > 0 { uptime.increment(by: uptimeDelta) }
        if cpuDelta > 0 { cpuSeconds.increment(by: cpuDelta) }
        memoryRSS.record(now.residentBytes)
    }
}

extension Signal {
    /// The item unit in upstream's metric names: `spans`, `metric_points`, `log_records`.
    var unitName: String {
        switch self {
        case .traces: "spans"
        case .metrics: "metric_points"
        case .logs: "log_records"
        }
    }
}
