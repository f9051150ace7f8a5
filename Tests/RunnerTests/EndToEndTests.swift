import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `collector` and `runner` binaries on loopback, started and stopped by PID.
@Suite(.serialized)
struct EndToEndTests {
    /// The runner's stdout, parsed.
    struct RunnerLog {
        var lines: [[String: Any]]

        init(_ text: String) {
            lines = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        var recordTraceIDs: [String] { lines.filter { $0["message"] as? String == "Record processed" }.compactMap { $0["trace_id"] as? String } }
        var summary: [String: Any]? { lines.first { $0["message"] as? String == "Batch job completed" }?["summary"] as? [String: Any] }
        var telemetry: [String: Int] { summary?["telemetry"] as? [String: Int] ?? [:] }
    }

    /// gRPC or not, for the tests that run over both protocols.
    static var protocols: [Bool] {
        #if GRPC
        [false, true]
        #else
        [false]
        #endif
    }

    static func runnerEnvironment(_ extra: [String: String]) -> [String: String] {
        var environment = ["PATH": "/usr/bin:/bin", "ENV_FILE": "/dev/null", "PROGRESS_INTERVAL": "60"]
        environment.merge(extra) { $1 }
        return environment
    }

    @Test func everyRecordsTraceIDAndEveryMetricReachTheCollector() async throws {
        let runnerBinary = try Binaries.require("runner")
        let directory = try temporaryDirectory()
        let collector = try await CollectorProcess.start(directory: directory)
        let runner = try ChildProcess(
            executable: runnerBinary, arguments: ["--generate", "200"],
            environment: Self.runnerEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint]), directory: directory, name: "runner")
        let status = await runner.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "runner stderr: \(runner.stderr)")
        let log = RunnerLog(runner.stdout)
        let traceIDs = log.recordTraceIDs
        #expect(traceIDs.count == 200)
        #expect(Set(traceIDs).count == 200)
        let names = [
            "batch_total_records", "record_latency_ms", "batch_processing_ms", "batch_cost_usd", "cost_per_record_usd", "cpu_utilization", "memory_used_mb",
        ]
        let arrived = await ChildProcess.eventually(timeout: .seconds(10)) {
            let output = collector.output
            return traceIDs.allSatisfy { output.contains("Trace ID       : \($0)") } && names.allSatisfy { output.contains("-> Name: \($0)") }
        }
        let output = collector.output
        #expect(arrived, "missing trace ids: \(traceIDs.filter { !output.contains($0) }.prefix(5)); missing metrics: \(names.filter { !output.contains("-> Name: \($0)") })")
        #expect(output.contains("Name           : process_record"))
        #expect(CollectorProcess.spanCount(in: output) == log.telemetry["spans_exported"])
        #expect(log.telemetry["spans_exported"] == 203 && log.telemetry["spans_dropped"] == 0)
        #expect(await collector.stop() == 0)
    }

    #if GRPC
    /// `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` (with gzip): every record's span, and every metric, over OTLP/gRPC.
    @Test func everyRecordsSpanReachesTheCollectorOverGRPC() async throws {
        let runnerBinary = try Binaries.require("runner")
        let directory = try temporaryDirectory()
        let collector = try await CollectorProcess.start(grpcPort: 0, directory: directory)
        let runner = try ChildProcess(
            executable: runnerBinary, arguments: ["--generate", "200"],
            environment: Self.runnerEnvironment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.grpcEndpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            ]), directory: directory, name: "runner")
        let status = await runner.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "runner stderr: \(runner.stderr)")
        let log = RunnerLog(runner.stdout)
        let traceIDs = log.recordTraceIDs
        #expect(traceIDs.count == 200)
        #expect(Set(traceIDs).count == 200)
        let arrived = await ChildProcess.eventually(timeout: .seconds(10)) {
            let output = collector.output
            return traceIDs.allSatisfy { output.contains("Trace ID       : \($0)") } && output.contains("-> Name: batch_total_records")
        }
        let output = collector.output
        #expect(arrived, "missing trace ids: \(traceIDs.filter { !output.contains($0) }.prefix(5))")
        #expect(CollectorProcess.spanCount(in: output) == log.telemetry["spans_exported"])
        #expect(log.telemetry["spans_exported"] == 203 && log.telemetry["spans_dropped"] == 0)
        #expect(log.telemetry["log_records_dropped"] == 0 && log.telemetry["metric_points_dropped"] == 0)
        #expect(log.lines.contains { $0["message"] as? String == "Connected to OTLP collector" && $0["endpoint"] as? String == collector.grpcEndpoint })
        #expect(await collector.stop() == 0)
    }
    #endif

    @Test(arguments: Self.protocols)
    func collectorRestartMidJobLosesNothing(grpc: Bool) async throws {
        let runnerBinary = try Binaries.require("runner")
        let directory = try temporaryDirectory()
        let first = try await CollectorProcess.start(grpcPort: grpc ? 0 : nil, directory: directory, name: "collector-a")
        let runner = try ChildProcess(
            executable: runnerBinary, arguments: ["--generate", "500"],
            environment: Self.runnerEnvironment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": grpc ? first.grpcEndpoint : first.endpoint, "SIMULATED_LATENCY_MS": "6", "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_BLRP_SCHEDULE_DELAY": "100", "OTEL_METRIC_EXPORT_INTERVAL": "300",
                "OTEL_EXPORTER_OTLP_PROTOCOL": grpc ? "grpc" : "http/protobuf",
            ]), directory: directory, name: "runner")
        try await Task.sleep(for: .milliseconds(1000))
        #expect(await first.stop() == 0)
        try await Task.sleep(for: .milliseconds(1200))
        #expect(runner.process.isRunning, "the job ended before the collector came back; make it longer")
        let second = try await CollectorProcess.start(
            port: first.port, grpcPort: first.grpcPort, directory: directory, name: "collector-b")
        let status = await runner.waitForExit(timeout: .seconds(90))
        #expect(status == 0, "runner stderr: \(runner.stderr)")
        let log = RunnerLog(runner.stdout)
        #expect(log.telemetry["spans_dropped"] == 0 && log.telemetry["log_records_dropped"] == 0 && log.telemetry["metric_points_dropped"] == 0)
        #expect(log.telemetry["spans_exported"] == 503)
        let traceIDs = log.recordTraceIDs
        #expect(traceIDs.count == 500)
        _ = await ChildProcess.eventually(timeout: .seconds(10)) { CollectorProcess.spanCount(in: first.output + second.output) >= 503 }
        #expect(await second.stop() == 0)
        let output = first.output + second.output
        #expect(CollectorProcess.spanCount(in: output) == 503)
        #expect(traceIDs.filter { !output.contains("Trace ID       : \($0)") }.isEmpty)
        #expect(CollectorProcess.spanCount(in: first.output) > 0 && CollectorProcess.spanCount(in: second.output) > 0)
    }

    @Test func collectorGoneForGoodGivesAnExactDroppedCountAndNoHang() async throws {
        let runnerBinary = try Binaries.require("runner")
        let directory = try temporaryDirectory()
        let collector = try await CollectorProcess.start(verbosity: "basic", directory: directory)
        let runner = try ChildProcess(
            executable: runnerBinary, arguments: ["--generate", "400"],
            environment: Self.runnerEnvironment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "SIMULATED_LATENCY_MS": "5", "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_BLRP_SCHEDULE_DELAY": "100", "OTEL_BSP_EXPORT_TIMEOUT": "1500", "OTEL_BLRP_EXPORT_TIMEOUT": "1500",
                "OTEL_METRIC_EXPORT_TIMEOUT": "1500", "LOG_RECORDS": "none",
            ]), directory: directory, name: "runner")
        try await Task.sleep(for: .milliseconds(800))
        #expect(await collector.stop() == 0)
        let stopped = ContinuousClock.now
        let status = await runner.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "runner stderr: \(runner.stderr)")
        #expect(stopped.duration(to: .now) < .seconds(20))
        let telemetry = RunnerLog(runner.stdout).telemetry
        let exported = try #require(telemetry["spans_exported"])
        let dropped = try #require(telemetry["spans_dropped"])
        #expect(exported + dropped == 403)
        #expect(dropped > 0)
        #expect(CollectorProcess.spanCount(in: collector.output) == exported)
    }

    @Test func sigtermStopsReadingFlushesAndExitsNonZero() async throws {
        let runnerBinary = try Binaries.require("runner")
        let directory = try temporaryDirectory()
        let collector = try await CollectorProcess.start(directory: directory)
        let runner = try ChildProcess(
            executable: runnerBinary, arguments: ["--generate", "5000", "--output", directory + "/predictions.jsonl"],
            environment: Self.runnerEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "SIMULATED_LATENCY_MS": "2"]),
            directory: directory, name: "runner")
        try await Task.sleep(for: .milliseconds(1500))
        runner.send(SIGTERM)
        let status = await runner.waitForExit(timeout: .seconds(30))
        #expect(status == 128 + SIGTERM)
        let log = RunnerLog(runner.stdout)
        let summary = try #require(log.summary)
        let processed = try #require(summary["total_records"] as? Int)
        #expect(processed > 0 && processed < 5000)
        #expect(summary["interrupted_by_signal"] as? Int == Int(SIGTERM))
        #expect(log.recordTraceIDs.count == processed)
        #expect(log.telemetry["spans_exported"] == processed + 3 && log.telemetry["spans_dropped"] == 0)
        _ = await ChildProcess.eventually(timeout: .seconds(10)) { CollectorProcess.spanCount(in: collector.output) >= processed + 3 }
        let output = collector.output
        #expect(log.recordTraceIDs.allSatisfy { output.contains("Trace ID       : \($0)") })
        #expect(!FileManager.default.fileExists(atPath: directory + "/predictions.jsonl"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }.isEmpty)
        #expect(await collector.stop() == 0)
    }

    @Test func shardsCoverEveryRecordExactlyOnce() async throws {
        let runnerBinary = try Binaries.require("runner")
        let directory = try temporaryDirectory()
        let collector = try await CollectorProcess.start(verbosity: "detailed", directory: directory)
        let shards = try (0..<3).map { index in
            try ChildProcess(
                executable: runnerBinary, arguments: ["--generate", "100", "--output", directory + "/predictions.jsonl"],
                environment: Self.runnerEnvironment([
                    "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "JOB_COMPLETION_INDEX": "\(index)", "JOB_COMPLETIONS": "3", "LOG_RECORDS": "none",
                ]), directory: directory, name: "runner-\(index)")
        }
        var ids: [Int] = []
        for (index, shard) in shards.enumerated() {
            #expect(await shard.waitForExit(timeout: .seconds(60)) == 0, "shard \(index): \(shard.stderr)")
            let lines = try String(contentsOfFile: directory + "/predictions-\(index).jsonl", encoding: .utf8).split(separator: "\n")
            let shardIDs = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? Int }
            #expect(shardIDs.allSatisfy { ($0 - 1) % 3 == index })
            ids += shardIDs
        }
        #expect(ids.count == 100)
        #expect(Set(ids) == Set(1...100))
        _ = await ChildProcess.eventually(timeout: .seconds(10)) { CollectorProcess.spanCount(in: collector.output) >= 100 + 9 }
        let output = collector.output
        for index in 0..<3 {
            #expect(output.contains("-> job.shard.index: Int(\(index))"))
        }
        #expect(await collector.stop() == 0)
    }
}
