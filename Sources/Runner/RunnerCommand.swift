import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Instrumentation
import Logging
import Tracing
import UnixSignals

/// The batch inference job (issue 3). Settings come from the environment over `.env`; flags override both.
@main
struct RunnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner",
        abstract: "Batch inference with per-record traces, metrics, logs and costs, exported over OTLP/HTTP.",
        discussion: "Without input it runs the lab's two records. Exit codes: 0 done, 1 over MAX_FAILED_RATIO, 2 invalid settings or input, 128+N after signal N.")

    @Option(help: "Input file: JSON Lines, JSON array or CSV with a header (INPUT_PATH).")
    var input: String?

    @Option(help: "Generate N deterministic records instead of reading input (GENERATE_RECORDS).")
    var generate: String?

    @Option(help: "Write predictions as JSON Lines to this path (OUTPUT_PATH).")
    var output: String?

    @Option(help: "Model JSON with weights, bias and activation (MODEL_PATH).")
    var model: String?

    @Option(name: .customLong("env-file"), help: "The .env file to read (ENV_FILE; default ./.env).")
    var envFile: String?

    @Option(name: .customLong("trace-mode"), help: "per-record or job (TRACE_MODE).")
    var traceMode: String?

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        let overrides: [(String, String?)] = [
            ("INPUT_PATH", input), ("GENERATE_RECORDS", generate), ("OUTPUT_PATH", output), ("MODEL_PATH", model), ("ENV_FILE", envFile),
            ("TRACE_MODE", traceMode),
        ]
        for (key, value) in overrides {
            if let value { environment[key] = value }
        }
        if input != nil { environment["GENERATE_RECORDS"] = nil }
        if generate != nil { environment["INPUT_PATH"] = nil }
        let code = await RunnerApp.main(environment: environment, bootstrapTracing: true)
        throw ExitCode(code)
    }
}

/// The runner as a function of its environment, so tests can run it in-process.
enum RunnerApp {
    static func main(environment: [String: String], bootstrapTracing: Bool = false, stdout: OutputStreamWriter = .standardOutput) async -> Int32 {
        let configuration: RunnerConfiguration
        do {
            configuration = try RunnerConfiguration.load(environment: environment)
        } catch {
            OutputStreamWriter.standardError.write("runner: \(error.description)\n")
            return 2
        }
        return await run(configuration, bootstrapTracing: bootstrapTracing, stdout: stdout)
    }

    static func run(_ configuration: RunnerConfiguration, bootstrapTracing: Bool, stdout: OutputStreamWriter) async -> Int32 {
        let job = configuration.job
        let telemetry = TelemetryPipeline(
            configuration: configuration.telemetry, writer: stdout, startNanos: DefaultTracerClock.now.nanosecondsSinceEpoch)
        defer { stdout.flush() }
        if bootstrapTracing { InstrumentationSystem.bootstrap(telemetry.tracer) }
        let logger = telemetry.internalLogger
        logger.info(
            "Initializing OpenTelemetry",
            metadata: ["service": .string(configuration.telemetry.serviceName), "endpoint": .string(configuration.telemetry.endpointDescription)])
        for warning in configuration.warnings { logger.warning("Ignoring a setting", metadata: ["reason": .string(warning)]) }
        if let hint = configuration.telemetry.endpointHint { logger.warning("Endpoint looks like OTLP/gRPC", metadata: ["hint": .string(hint)]) }

        let model: any InferenceModel
        do {
            model = try job.modelPath.map { path throws(ConfigurationError) in try LinearModel.load(path: path) } ?? SumModel()
        } catch {
            OutputStreamWriter.standardError.write("runner: \(error.description)\n")
            await telemetry.shutdown()
            return 2
        }
        let allocation = ResourceAllocation.resolve(job.resources)
        if telemetry.isExporting {
            let timeout = min(Duration.seconds(2), configuration.telemetry.traces?.timeout ?? .seconds(2))
            if await !telemetry.probe(timeout: timeout == .zero ? .seconds(2) : timeout) {
                logger.warning(
                    "OTLP collector not reachable yet; exports will be retried",
                    metadata: ["endpoint": .string(configuration.telemetry.endpointDescription)])
            }
        }

        let progress = JobProgress()
        let batchJob = BatchJob(configuration: job, telemetry: telemetry, model: model, allocation: allocation, progress: progress)
        let reporter = ProgressReporter(
            progress: progress, interval: job.progressInterval, isTerminal: ProgressReporter.stderrIsTerminal, logger: logger, stdout: stdout,
            stderr: .standardError, metrics: telemetry.metrics, allocatedCores: allocation.cpuCores)
        let outcome = await withTaskGroup(of: Void.self, returning: JobOutcome.self) { group in
            group.addTask {
                let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
                for await signal in signals {
                    let number: Int32 = signal == .sigterm ? SIGTERM : SIGINT
                    if progress.stopRequestedBy == 0 {
                        logger.warning("Stopping: finishing the current record, then flushing", metadata: ["signal": .string("\(signal)")])
                    }
                    progress.requestStop(signal: number)
                }
            }
            group.addTask { await reporter.run() }
            let outcome = await telemetry.withRunning { await batchJob.run() }
            group.cancelAll()
            return outcome
        }
        if case .invalid(let message) = outcome {
            OutputStreamWriter.standardError.write("runner: \(message)\n")
        }
        await telemetry.shutdown()
        return outcome.exitCode
    }
}
