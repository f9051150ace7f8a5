import AsyncHTTPClient
import Logging
import Shared
import Synchronization
import Tracing

/// Spans, metrics and log records from the job to the collector: the tracer, the metrics recorder and the
/// loggers the job uses, the batch queues behind them and the HTTP client (or gRPC connections) they share.
///
/// Lifecycle: `withRunning { … }` runs the export loops around the job; `finish(deadline:)` exports the
/// last metrics and drains both queues within the deadline; log records logged after that (the summary)
/// are sent by `exportLateLogs(deadline:)`.
final class TelemetryPipeline: Sendable {
    let configuration: TelemetryConfiguration
    let resource: TelemetryResource
    let tracer: OTLPTracer
    let metrics: MetricsRecorder
    let spanQueue: BatchQueue<EncodedItems>
    let logQueue: BatchQueue<EncodedItems>
    let metricCounters = ExportCounters()
    /// Logs that go to stdout and the collector.
    let logger: Logger
    /// The per-record `Record processed` event, typed (same line and log record as `logger`).
    let recordLog: RecordEventLog
    /// Logs about the exporter itself: stdout only, so export problems do not feed the export.
    let internalLogger: Logger
    let connection: ConnectionMonitor
    private let client: HTTPClient?
    #if GRPC
    /// One connection per distinct gRPC endpoint.
    private let grpcClients: [OTLPGRPCClient]
    #endif
    private let tracesExporter: OTLPExporter<OTLPTracesRequest>?
    private let metricsExporter: OTLPExporter<OTLPMetricsRequest>?
    private let logsExporter: OTLPExporter<OTLPLogsRequest>?
    private let logRouter: LogRouter
    private let finished = Mutex(false)

    init(configuration: TelemetryConfiguration, retry: RetryPolicy = RetryPolicy(), writer: OutputStreamWriter, startNanos: UInt64) {
        self.configuration = configuration
        let resource = TelemetryResource(attributes: configuration.resourceAttributes)
        self.resource = resource
        self.metrics = MetricsRecorder(startNanos: startNanos)
        let internalLogger = Logger(label: "runner.exporter") { _ in JSONLogHandler(writer: writer) }
        self.internalLogger = internalLogger
        let endpoint = configuration.endpointDescription
        let connection = ConnectionMonitor { _ in
            internalLogger.info("Connected to OTLP collector", metadata: ["endpoint": .string(endpoint)])
        }
        self.connection = connection

        var client: HTTPClient?
        if configuration.isEnabled {
            var clientConfiguration = HTTPClient.Configuration()
            clientConfiguration.tracing.tracer = nil  // the exporter's own requests are not traced
            clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        }
        self.client = client
        #if GRPC
        var grpcClients: [String: OTLPGRPCClient] = [:]
        #endif
        func exporter<P: SignalPayload>(_ config: OTLPExporterConfiguration?, _ rejected: @escaping @Sendable (P.Response) -> Int64) -> OTLPExporter<P>? {
            guard let config else { return nil }
            #if GRPC
            if config.grpc {
                let key = "\(config.insecure) \(config.url)"
                // The endpoint was checked when the configuration was read.
                guard let grpc = grpcClients[key] ?? (try? OTLPGRPCClient(endpoint: config.url, insecure: config.insecure)) else { return nil }
                grpcClients[key] = grpc
                return OTLPExporter<P>(
                    transport: .grpc(grpc), configuration: config, retry: retry, logger: internalLogger, connection: connection,
                    rejectedItems: rejected)
            }
            #endif
            guard let client else { return nil }
            return OTLPExporter<P>(
                client: client, configuration: config, retry: retry, logger: internalLogger, connection: connection, rejectedItems: rejected)
        }
        let tracesExporter: OTLPExporter<OTLPTracesRequest>? = exporter(configuration.traces) { $0.partialSuccess.rejectedSpans }
        let logsExporter: OTLPExporter<OTLPLogsRequest>? = exporter(configuration.logs) { $0.partialSuccess.rejectedLogRecords }
        self.tracesExporter = tracesExporter
        self.logsExporter = logsExporter
        metricsExporter = exporter(configuration.metrics) { $0.partialSuccess.rejectedDataPoints }
        #if GRPC
        self.grpcClients = Array(grpcClients.values)
        #endif

        let spanExporter: any BatchExporter<EncodedBatch> =
            tracesExporter.map { EncodedBatchExporter(resource: resource, exporter: $0) } ?? DiscardingExporter<EncodedBatch>()
        let logExporter: any BatchExporter<EncodedBatch> =
            logsExporter.map { EncodedBatchExporter(resource: resource, exporter: $0) } ?? DiscardingExporter<EncodedBatch>()
        let spanQueue = BatchQueue(
            settings: configuration.spanBatch, storage: EncodedItems(chunkCapacity: configuration.spanBatch.maxExportBatchSize),
            exporter: spanExporter)
        let logQueue = BatchQueue(
            settings: configuration.logBatch, storage: EncodedItems(chunkCapacity: configuration.logBatch.maxExportBatchSize),
            exporter: logExporter)
        self.spanQueue = spanQueue
        self.logQueue = logQueue
        tracer = OTLPTracer(sink: tracesExporter == nil ? NoSpanSink() : spanQueue)
        let router = LogRouter(queue: logsExporter == nil ? nil : logQueue)
        logRouter = router
        logger = Logger(label: "runner") { _ in JSONLogHandler(writer: writer, sink: router) }
        recordLog = RecordEventLog(writer: writer, sink: router)
    }

    /// Whether any signal is exported.
    var isExporting: Bool { client != nil }

    /// Asks the collector once whether it is there (an empty traces request); `Connected to OTLP collector`
    /// is logged on the first answer, whenever it comes.
    func probe(timeout: Duration) async -> Bool {
        guard let tracesExporter else { return false }
        return await tracesExporter.probe(timeout: timeout)
    }

    /// Runs the export loops (queues and the periodic metric reader) while `body` runs.
    func withRunning<T: Sendable>(_ body: () async -> T) async -> T {
        await withTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await self.spanQueue.run() }
            group.addTask { await self.logQueue.run() }
            group.addTask { await self.periodicMetrics() }
            let result = await body()
            // Whatever path the body took, the loops end: finish (idempotent) with the default deadline. The queues are
            // drained then; cancelling wakes the metric reader from its sleep (up to 100 ms) instead of waiting for it.
            await finish(deadline: ContinuousClock.now.advanced(by: configuration.spanBatch.exportTimeout))
            group.cancelAll()
            await group.waitForAll()
            return result
        }
    }

    /// Whether a queue is full, so the job should `waitForCapacity()` (two atomic loads).
    var mustWait: Bool { spanQueue.isFull || logQueue.isFull }

    /// Slows the job while a queue is full.
    func waitForCapacity() async {
        await spanQueue.waitForCapacity()
        await logQueue.waitForCapacity()
    }

    /// Exports the final metrics and drains the queues before `deadline`; later calls do nothing.
    func finish(deadline: ContinuousClock.Instant) async {
        let first = finished.withLock { state in
            defer { state = true }
            return !state
        }
        guard first else { return }
        logRouter.divert()
        spanQueue.shutdown(deadline: deadline)
        logQueue.shutdown(deadline: deadline)
        await exportMetrics(deadline: deadline)
        while spanQueue.pendingCount > 0 || logQueue.pendingCount > 0 || !spanQueue.isFinished || !logQueue.isFinished {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Sends log records logged after `finish` (the summary) in one request.
    func exportLateLogs(deadline: ContinuousClock.Instant) async {
        guard let records = logRouter.takeDiverted(), let logsExporter else { return }
        logQueue.counters.produced(records.count)
        let result = await EncodedBatchExporter(resource: resource, exporter: logsExporter).export(records, deadline: deadline)
        logQueue.counters.exported(result.exported)
        logQueue.counters.dropped(records.count - result.exported)
    }

    /// Closes the HTTP client and the gRPC connections.
    func shutdown() async {
        try? await client?.shutdown()
        #if GRPC
        for grpc in grpcClients { await grpc.shutdown() }
        #endif
    }

    // MARK: - Metrics

    private func periodicMetrics() async {
        while !finished.withLock({ $0 }) {
            let wakeUp = ContinuousClock.now.advanced(by: configuration.metricExportInterval)
            while ContinuousClock.now < wakeUp, !finished.withLock({ $0 }) {
                try? await Task.sleep(for: min(.milliseconds(100), ContinuousClock.now.duration(to: wakeUp)))
            }
            guard !finished.withLock({ $0 }) else { return }
            await exportMetrics(deadline: ContinuousClock.now.advanced(by: configuration.metricExportTimeout))
        }
    }

    private func exportMetrics(deadline: ContinuousClock.Instant) async {
        guard let metricsExporter else { return }
        let request = metrics.snapshot(nowNanos: DefaultTracerClock.now.nanosecondsSinceEpoch, resource: resource)
        let points = request.itemCount
        metricCounters.produced(points)
        let result = await metricsExporter.export(request, itemCount: points, deadline: deadline)
        metricCounters.exported(result.exported)
        metricCounters.dropped(points - result.exported)
    }
}

/// Sends log records to the queue until `divert()`, then keeps them for one last export.
final class LogRouter: LogRecordSink {
    private let queue: BatchQueue<EncodedItems>?
    /// After `divert()`: one chunk, whatever the count.
    private let diverted = Mutex<EncodedItems?>(nil)

    init(queue: BatchQueue<EncodedItems>?) {
        self.queue = queue
    }

    var keepsRecords: Bool { queue != nil }

    func consume(encoding body: (inout ProtobufWriter) -> Void) {
        guard let queue else { return }
        let kept = diverted.withLock { records -> Bool in
            guard records != nil else { return false }
            records!.append(body)
            return true
        }
        if !kept { queue.append { $0.append(body) } }
    }

    func divert() { diverted.withLock { if $0 == nil { $0 = EncodedItems(chunkCapacity: .max, chunkBytes: 4096) } } }

    /// The records logged since `divert()` (nil if none), as one batch.
    func takeDiverted() -> EncodedBatch? {
        diverted.withLock { records in
            guard let count = records?.count, count > 0 else { return nil }
            return records!.takeBatch(maxCount: .max)
        }
    }
}

/// Spans of a switched-off trace signal go nowhere.
struct NoSpanSink: SpanSink {
    func consume(encoding body: (inout ProtobufWriter) -> Void) {}
    var keepsSpans: Bool { false }
}
