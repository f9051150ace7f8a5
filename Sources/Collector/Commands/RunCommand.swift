import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServiceLifecycle
import Shared
import UnixSignals

/// `collector [run] --config …`: starts the pipelines and serves until SIGTERM or SIGINT, then drains:
/// receivers stop accepting and finish in-flight requests, batches flush, exporters write, exit 0.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the collector (the default command).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        try await Self.run(configPaths: options.paths)
    }

    /// The whole run, for `CollectorMain`'s fast path as for the parsed command.
    static func run(configPaths: [String]) async throws {
        let loaded = try ConfigOptions.load(paths: configPaths, errorPrefix: "invalid configuration: ")
        let level = loaded.config.service.logLevel
        LoggingSystem.bootstrap { _ in ConsoleLogHandler(level: level.swiftLogLevel) }
        let logger = Logger(label: "collector")

        logger.info("Starting \(BuildInfo.command)...", metadata: [
            "Version": "\(BuildInfo.version)", "NumCPU": "\(ProcessInfo.processInfo.activeProcessorCount)",
        ])
        for name in loaded.unsetVariables {
            logger.warning("Configuration references unset environment variable", metadata: ["name": "\(name)"])
        }
        for (id, component) in loaded.config.exporters.sorted(by: { $0.key < $1.key }) {
            if case .debug(let debug) = component, debug.deprecatedAlias {
                logger.warning(
                    "The logging exporter is deprecated and was removed upstream in v0.111.0; use the debug exporter instead. Serving it as debug.",
                    metadata: ["name": "\(id)", "verbosity": "\(debug.verbosity.rawValue)"])
            }
        }

        let health = HealthState()
        let readiness = Readiness(logger: logger, health: health)
        // The collector's own metrics: one registry, handed to every component (no global bootstrap).
        let metricsConfig = loaded.config.service.metrics
        let telemetry = CollectorTelemetry(config: metricsConfig)
        let graph: PipelineGraph
        do {
            graph = try PipelineGraph(
                config: loaded.config,
                context: .init(
                    logger: logger, onReceiverListening: { _, _ in await readiness.receiverListening() }, health: health,
                    telemetry: telemetry))
        } catch {
            logger.error("Failed to build pipelines", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }

        var services = graph.services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        // Ready means the metrics are served too; the server starts first and stops last.
        if metricsConfig.isEnabled, let reader = metricsConfig.reader {
            let server = MetricsServer(
                endpoint: reader.endpoint, telemetry: telemetry, logger: logger,
                onListening: { _ in await readiness.receiverListening() })
            services.insert(.init(service: server), at: 0)
            await readiness.expect(graph.receiverCount + 1)
        } else {
            await readiness.expect(graph.receiverCount)
        }
        services.append(.init(service: ShutdownAnnouncer(logger: logger, health: health), successTerminationBehavior: .ignore))
        var groupLogger = logger
        groupLogger.logLevel = .warning
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: groupLogger))
        do {
            try await group.run()
        } catch {
            logger.error("Collector stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        logger.info("Shutdown complete.")
    }
}

/// Logs `Everything is ready.` and turns the health check to 200 once every receiver listens.
actor Readiness {
    private let logger: Logger
    private let health: HealthState
    private var expected: Int?
    private var listening = 0

    init(logger: Logger, health: HealthState) {
        self.logger = logger
        self.health = health
    }

    func expect(_ count: Int) {
        expected = count
        announceIfReady()
    }

    func receiverListening() {
        listening += 1
        announceIfReady()
    }

    private func announceIfReady() {
        guard let expected, listening == expected else { return }
        health.markReady()
        logger.info("Everything is ready. Begin running and processing data.")
    }
}

/// The last service of the group, so the first to hear of a graceful shutdown: it says so, and the
/// health check answers 503 from then on, while the receivers drain.
struct ShutdownAnnouncer: Service {
    let logger: Logger
    let health: HealthState

    func run() async throws {
        try? await gracefulShutdown()
        health.markNotReady()
        logger.info("Starting shutdown...")
    }
}

extension ServiceConfig.LogLevel {
    var swiftLogLevel: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .warn: .warning
        case .error: .error
        }
    }
}
