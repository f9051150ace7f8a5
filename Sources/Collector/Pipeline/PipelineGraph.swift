import Logging
import ServiceLifecycle
import Shared

/// Turns a validated config into running components, wired as upstream wires them (reference §9.1):
/// receivers and exporters get one instance per (id, signal), shared by every pipeline of that signal;
/// processors get one instance per pipeline; a receiver fans out to every pipeline that lists it, and a
/// pipeline fans out to all its exporters. Components no pipeline uses are not created.
struct PipelineGraph {
    /// Services in start order: extensions (in `service.extensions` order), processors (each pipeline
    /// tail to head), then receivers. ServiceGroup shuts down in reverse, so receivers stop first,
    /// batches flush into running exporters, and extensions (the health check) go last.
    private(set) var services: [any Service] = []
    /// Receiver servers (an OTLP receiver with both protocols counts twice), to know when all of them listen.
    private(set) var receiverCount = 0
    /// One memory limiter per id, shared by every pipeline that lists it.
    private var memoryLimiters: [ComponentID: MemoryLimiter] = [:]

    /// What a receiver hands one signal to: the fan-out over its pipelines, and the memory limiters
    /// of those pipelines (consulted before a body is read).
    struct SignalEntry<P: PipelinePayload> {
        var consumer: any Consumer<P>
        var limiters: [MemoryLimiter]
    }

    struct Context {
        var logger: Logger
        var clock: ContinuousClock = ContinuousClock()
        /// Where the debug exporters write with `use_internal_logger: true` (stdout: users read it there).
        var exporterOutput: LogOutput = .standardOutput
        var onReceiverListening: @Sendable (ComponentID, String) async -> Void = { _, _ in }
        /// Shared with the health check; the run command flips it.
        var health = HealthState()
        /// The collector's own metrics (`service.telemetry.metrics`); records nothing by default.
        var telemetry: CollectorTelemetry = .disabled
    }

    init(config: CollectorConfig, context: Context) throws {
        var authenticators: [ComponentID: BearerTokenAuthenticator] = [:]
        for id in config.service.extensions {
            switch config.extensions[id] {
            case .healthCheck(let healthConfig)?:
                services.append(HealthCheckExtension(id: id, config: healthConfig, state: context.health, logger: context.logger))
            case .bearerTokenAuth(let authConfig)?:
                let authenticator = try BearerTokenAuthenticator(id: id, config: authConfig, logger: context.logger)
                authenticators[id] = authenticator
                services.append(authenticator)
            default:
                continue
            }
        }

        var exporterOutputs: [String: LogOutput] = [:]
        func output(for exporter: DebugExporterConfig) throws -> LogOutput {
            if exporter.useInternalLogger { return context.exporterOutput }
            // One stream per path, even when several exporters name it.
            let path = exporter.outputPaths[0]
            if let existing = exporterOutputs[path] { return existing }
            let opened = try LogOutput.open(path)
            exporterOutputs[path] = opened
            return opened
        }

        let traces = try buildSignal(OTLPTracesRequest.self, config: config, context: context, output: output)
        let metrics = try buildSignal(OTLPMetricsRequest.self, config: config, context: context, output: output)
        let logs = try buildSignal(OTLPLogsRequest.self, config: config, context: context, output: output)

        // Limiters measure before anything else runs and stop after everything else.
        let extensionCount = services.count
        services.insert(contentsOf: memoryLimiters.sorted(by: { $0.key < $1.key }).map(\.value) as [any Service], at: extensionCount)

        for (id, receiverConfig) in config.receivers.sorted(by: { $0.key < $1.key }) {
            guard case .otlpReceiver(let otlp) = receiverConfig else { continue }
            #if GRPC
            if let grpc = otlp.grpc {
                var receiverLogger = context.logger
                receiverLogger[metadataKey: "otelcol.component.id"] = "\(id)"
                let onListening = context.onReceiverListening
                var receiver = OTLPGRPCReceiver(
                    id: id, config: grpc, logger: context.logger, onListening: { address in await onListening(id, address) })
                receiver.traces = traces[id].map {
                    .init(consumer: $0.consumer, limiters: $0.limiters, logger: receiverLogger,
                          metrics: context.telemetry.receiver(id, transport: "grpc", signal: .traces))
                }
                receiver.metrics = metrics[id].map {
                    .init(consumer: $0.consumer, limiters: $0.limiters, logger: receiverLogger,
                          metrics: context.telemetry.receiver(id, transport: "grpc", signal: .metrics))
                }
                receiver.logs = logs[id].map {
                    .init(consumer: $0.consumer, limiters: $0.limiters, logger: receiverLogger,
                          metrics: context.telemetry.receiver(id, transport: "grpc", signal: .logs))
                }
                if !receiver.services.isEmpty {
                    services.append(receiver)
                    receiverCount += 1
                }
            }
            #endif
            guard let http = otlp.http else { continue }
            var routes: [String: OTLPHTTPReceiver.SignalRoute] = [:]
            var receiverLogger = context.logger
            receiverLogger[metadataKey: "otelcol.component.id"] = "\(id)"
            if let entry = traces[id] {
                routes[http.paths[.traces]!] = .make(
                    OTLPTracesRequest.self, consumer: entry.consumer, limiters: entry.limiters, logger: receiverLogger,
                    metrics: context.telemetry.receiver(id, transport: "http", signal: .traces))
            }
            if let entry = metrics[id] {
                routes[http.paths[.metrics]!] = .make(
                    OTLPMetricsRequest.self, consumer: entry.consumer, limiters: entry.limiters, logger: receiverLogger,
                    metrics: context.telemetry.receiver(id, transport: "http", signal: .metrics))
            }
            if let entry = logs[id] {
                routes[http.paths[.logs]!] = .make(
                    OTLPLogsRequest.self, consumer: entry.consumer, limiters: entry.limiters, logger: receiverLogger,
                    metrics: context.telemetry.receiver(id, transport: "http", signal: .logs))
            }
            guard !routes.isEmpty else { continue }
            let onListening = context.onReceiverListening
            services.append(OTLPHTTPReceiver(
                id: id, config: http, routes: routes, logger: context.logger,
                onListening: { address in await onListening(id, address) },
                authenticator: http.authenticator.flatMap { authenticators[$0] }))
            receiverCount += 1
        }
    }

    /// Builds the exporters and processor chains of one signal; returns each receiver's fan-out head.
    private mutating func buildSignal<Request: DebugPrintable>(
        _ type: Request.Type, config: CollectorConfig, context: Context, output: (DebugExporterConfig) throws -> LogOutput
    ) throws -> [ComponentID: SignalEntry<PipelineData<Request>>] {
        typealias P = PipelineData<Request>
        let pipelines = config.service.pipelines.filter { $0.key.signal == P.signal }.sorted(by: { $0.key < $1.key })
        var exporters: [ComponentID: any Consumer<P>] = [:]
        var heads: [ComponentID: [any Consumer<P>]] = [:]
        var limitersByReceiver: [ComponentID: [MemoryLimiter]] = [:]
        for (pipelineID, pipeline) in pipelines {
            var fanOut: [any Consumer<P>] = []
            for id in pipeline.exporters {
                if exporters[id] == nil, case .debug(let exporterConfig)? = config.exporters[id] {
                    exporters[id] = MeteredExporter<P>(
                        exporter: DebugExporter<P>(id: id, config: exporterConfig, output: try output(exporterConfig)),
                        metrics: context.telemetry.exporter(id, signal: P.signal))
                }
                if let exporter = exporters[id] { fanOut.append(exporter) }
            }
            var next: any Consumer<P> = FanOutConsumer(consumers: fanOut)
            var batches: [BatchProcessor<P, ContinuousClock>] = []
            var limiters: [MemoryLimiter] = []
            for id in pipeline.processors.reversed() {
                var logger = context.logger
                logger[metadataKey: "otelcol.component.id"] = "\(id)"
                logger[metadataKey: "otelcol.pipeline.id"] = "\(pipelineID)"
                switch config.processors[id] {
                case .batch(let batchConfig)?:
                    let processor = BatchProcessor<P, ContinuousClock>(
                        id: id, config: batchConfig, next: next, clock: context.clock, logger: logger,
                        metrics: context.telemetry.batch(id))
                    services.append(processor)
                    batches.append(processor)
                    next = processor
                case .memoryLimiter(let limiterConfig)?:
                    let limiter = memoryLimiters[id] ?? MemoryLimiter(id: id, config: limiterConfig, logger: logger)
                    memoryLimiters[id] = limiter
                    limiters.append(limiter)
                    next = MemoryLimiterProcessor(
                        limiter: limiter, next: next, metrics: context.telemetry.memoryLimiter(id, signal: P.signal))
                case .attributes(let attributesConfig)?:
                    next = try AttributesProcessor<P>(id: id, config: attributesConfig, next: next, logger: logger)
                default:
                    continue
                }
            }
            // Above a hard limit, the batches of this pipeline send what they hold.
            for limiter in limiters {
                for batch in batches { limiter.onHardLimit { await batch.flushNow() } }
            }
            for id in pipeline.receivers {
                heads[id, default: []].append(next)
                limitersByReceiver[id, default: []] += limiters
            }
        }
        return heads.mapValues { $0.count == 1 ? $0[0] : FanOutConsumer(consumers: $0) }
            .reduce(into: [:]) { entries, head in
                entries[head.key] = SignalEntry(consumer: head.value, limiters: limitersByReceiver[head.key] ?? [])
            }
    }
}
