import Foundation
import NIOCore
import Shared
import Testing
import Tracing

@testable import Runner

/// The whole job in-process against the scripted OTLP endpoint: what reaches the collector, what is logged.
struct JobTests {
    struct Run {
        var exitCode: Int32
        var lines: [[String: Any]]
        var spans: [OTLPSpan]
        var logRecords: [OTLPLogRecord]
        var metricNames: Set<String>

        func lines(_ message: String) -> [[String: Any]] { lines.filter { $0["message"] as? String == message } }
    }

    /// Runs the runner with `environment` against `server` and decodes everything it sent.
    static func run(_ environment: [String: String], server: TestHTTPServer) async throws -> Run {
        let directory = try temporaryDirectory()
        let logPath = directory + "/stdout.jsonl"
        let descriptor = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(descriptor) }
        var environment = environment
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = server.url
        environment["ENV_FILE"] = environment["ENV_FILE"] ?? "/dev/null"
        let exitCode = await RunnerApp.main(environment: environment, stdout: OutputStreamWriter(descriptor: descriptor))
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        let lines = try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
        var spans: [OTLPSpan] = []
        var logs: [OTLPLogRecord] = []
        var metricNames: Set<String> = []
        for request in server.requests {
            let body = ByteBuffer(bytes: request.body)
            switch request.path {
            case "/v1/traces":
                spans += try OTLPCodec.decode(OTLPTracesRequest.self, from: body, encoding: .protobuf).resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans)
            case "/v1/logs":
                logs += try OTLPCodec.decode(OTLPLogsRequest.self, from: body, encoding: .protobuf).resourceLogs.flatMap(\.scopeLogs).flatMap(\.logRecords)
            case "/v1/metrics":
                let request = try OTLPCodec.decode(OTLPMetricsRequest.self, from: body, encoding: .protobuf)
                metricNames.formUnion(request.resourceMetrics.flatMap(\.scopeMetrics).flatMap(\.metrics).map(\.name))
            default:
                Issue.record("unexpected path \(request.path)")
            }
        }
        return Run(exitCode: exitCode, lines: lines, spans: spans, logRecords: logs, metricNames: metricNames)
    }

    @Test func labRunReproducesTheLabAndExportsEverySignal() async throws {
        let server = try await TestHTTPServer()
        let run = try await Self.run([:], server: server)
        await server.close()
        #expect(run.exitCode == 0)
        #expect(run.lines.map { $0["message"] as? String }.prefix(3) == ["Initializing OpenTelemetry", "Connected to OTLP collector", "Starting batch inference job"])
        #expect(run.lines("Starting batch inference job").first?["total_records"] as? Int == 2)

        let processed = run.lines("Record processed")
        #expect(processed.map { $0["id"] as? Int } == [1, 2])
        #expect(processed.map { $0["prediction"] as? Double } == [6.0, 15.0])
        let summary = try #require(run.lines("Batch job completed").first?["summary"] as? [String: Any])
        #expect(summary["avg_prediction"] as? Double == 10.5)
        #expect(summary["successful"] as? Int == 2)
        #expect(summary["failed"] as? Int == 0)
        let telemetry = try #require(summary["telemetry"] as? [String: Int])
        #expect(telemetry["spans_exported"] == 5 && telemetry["spans_dropped"] == 0)
        #expect(telemetry["metric_points_dropped"] == 0 && telemetry["log_records_dropped"] == 0)

        // Spans: batch_job with its two children; each record its own trace, linked to batch_job.
        let byName = Dictionary(grouping: run.spans, by: \.name)
        let root = try #require(byName["batch_job"]?.first)
        #expect(byName["read_input_data"]?.first?.parentSpanID == root.spanID)
        #expect(byName["batch_complete"]?.first?.parentSpanID == root.spanID)
        let records = try #require(byName["process_record"])
        #expect(records.count == 2)
        #expect(Set(records.map(\.traceID)).count == 2)
        #expect(records.allSatisfy { $0.traceID != root.traceID && $0.parentSpanID.isEmpty })
        #expect(records.allSatisfy { $0.links.first?.spanID == root.spanID && $0.links.first?.traceID == root.traceID })
        let keys = Set(records[0].attributes.map(\.key))
        #expect(keys.isSuperset(of: ["record.id", "prediction", "latency_ms", "cost_usd", "cpu_cores", "memory_mb"]))
        // The logged trace ids are the spans'.
        #expect(Set(processed.compactMap { $0["trace_id"] as? String }) == Set(records.map { Hex.encode($0.traceID) }))

        // Log records carry the record's trace and span ids.
        let recordLogs = run.logRecords.filter { $0.body.stringValue == "Record processed" }
        #expect(recordLogs.count == 2)
        #expect(Set(recordLogs.map(\.traceID)) == Set(records.map(\.traceID)))
        #expect(Set(recordLogs.map(\.spanID)) == Set(records.map(\.spanID)))
        #expect(run.logRecords.contains { $0.body.stringValue == "Batch job completed" })

        #expect(run.metricNames.isSuperset(of: [
            "batch_total_records", "record_latency_ms", "batch_processing_ms", "batch_cost_usd", "cost_per_record_usd", "cpu_utilization",
            "memory_used_mb",
        ]))
    }

    @Test func jobModeMakesRecordSpansChildrenOfBatchJob() async throws {
        let server = try await TestHTTPServer()
        let run = try await Self.run(["TRACE_MODE": "job", "GENERATE_RECORDS": "20", "LOG_RECORDS": "none"], server: server)
        await server.close()
        #expect(run.exitCode == 0)
        let root = try #require(run.spans.first { $0.name == "batch_job" })
        let records = run.spans.filter { $0.name == "process_record" }
        #expect(records.count == 20)
        #expect(records.allSatisfy { $0.traceID == root.traceID && $0.parentSpanID == root.spanID && $0.links.isEmpty })
        #expect(run.lines("Record processed").isEmpty)
    }

    @Test func badRecordsFailTheJobBeyondMaxFailedRatio() async throws {
        let directory = try temporaryDirectory()
        try write(
            """
            {"id": 1, "features": [1, 2, 3]}
            {"id": 2, "features": [1, "x", 3]}
            {"id": 3, "features": [1, 2]}
            {"features": [1, 2, 3]}
            """, to: directory + "/in.jsonl")
        let server = try await TestHTTPServer()
        let strict = try await Self.run(["INPUT_PATH": directory + "/in.jsonl", "OUTPUT_PATH": directory + "/out.jsonl"], server: server)
        #expect(strict.exitCode == 1)
        #expect(!FileManager.default.fileExists(atPath: directory + "/out.jsonl"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }.isEmpty)
        let failures = strict.lines("Record failed")
        #expect(failures.map { $0["reason"] as? String } == ["feature 1 is not a number", "expected 3 features, found 2", "missing id"])
        #expect(failures.map { $0["id"] as? Int } == [2, 3, nil])
        let failedSpans = strict.spans.filter { $0.name == "process_record" && $0.status.code == .error }
        #expect(failedSpans.count == 3)

        let lenient = try await Self.run(
            ["INPUT_PATH": directory + "/in.jsonl", "OUTPUT_PATH": directory + "/out.jsonl", "MAX_FAILED_RATIO": "0.75", "LOG_RECORDS": "failed"],
            server: server)
        await server.close()
        #expect(lenient.exitCode == 0)
        #expect(lenient.lines("Record processed").isEmpty)
        #expect(lenient.lines("Record failed").count == 3)
        let output = try String(contentsOfFile: directory + "/out.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(output.count == 1)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(output[0].utf8)) as? [String: Any])
        #expect(line["id"] as? Int == 1 && line["prediction"] as? Double == 6)
        #expect(Set(line.keys) == ["id", "prediction", "latency_ms", "cost_usd", "trace_id"])
    }

    @Test func costTargetAndCostTrackingSwitch() async throws {
        let server = try await TestHTTPServer()
        let over = try await Self.run(["COST_PER_RECORD_TARGET": "0"], server: server)
        #expect(over.lines("Cost per record above target").first?["level"] as? String == "WARNING")
        let complete = try #require(over.spans.first { $0.name == "batch_complete" })
        #expect(complete.events.map(\.name) == ["cost_per_record_over_target"])
        #expect(complete.attributes.contains { $0.key == "cost.over_target" && $0.value.boolValue })

        await server.close()
        let fresh = try await TestHTTPServer()
        let off = try await Self.run(["ENABLE_COST_TRACKING": "false"], server: fresh)
        await fresh.close()
        #expect(off.lines("Record processed").allSatisfy { $0["cost_usd"] == nil })
        let summary = try #require(off.lines("Batch job completed").first?["summary"] as? [String: Any])
        #expect(summary["total_cost_usd"] == nil && summary["job_cost_usd"] == nil)
        #expect(off.spans.filter { $0.name == "process_record" }.allSatisfy { !$0.attributes.contains { $0.key == "cost_usd" } })
        #expect(!off.metricNames.contains("batch_cost_usd"))
    }

    @Test func unreadableInputAndInvalidSettingsExit2() async throws {
        let server = try await TestHTTPServer()
        let missing = try await Self.run(["INPUT_PATH": "/nonexistent/input.jsonl"], server: server)
        #expect(missing.exitCode == 2)
        #expect(
            missing.lines("Batch job failed").first?["reason"] as? String
                == "invalid setting INPUT_PATH: cannot read input /nonexistent/input.jsonl: No such file or directory")
        let invalid = try await Self.run(["MAX_FAILED_RATIO": "2"], server: server)
        #expect(invalid.exitCode == 2)
        #expect(invalid.lines.isEmpty)
        await server.close()
    }

    /// A model that opens its own span with swift-distributed-tracing's `withSpan`.
    struct TracedModel: InferenceModel {
        let tracer: OTLPTracer
        var featureCount: Int? { nil }

        func predict(_ features: [Double]) -> Double {
            tracer.withSpan("model.forward") { span in
                span.attributes["model.features"] = features.count
                return features.reduce(0, +)
            }
        }
    }

    @Test func withSpanInModelCodeNestsUnderTheRecordSpan() async throws {
        let server = try await TestHTTPServer()
        let configuration = try RunnerConfiguration.load(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": server.url, "ENV_FILE": "/dev/null"])
        let writer = OutputStreamWriter(descriptor: open("/dev/null", O_WRONLY))
        let telemetry = TelemetryPipeline(configuration: configuration.telemetry, writer: writer, startNanos: 0)
        let job = BatchJob(
            configuration: configuration.job, telemetry: telemetry, model: TracedModel(tracer: telemetry.tracer),
            allocation: ResourceAllocation.resolve(ResourceSettings()), progress: JobProgress())
        let outcome = await telemetry.withRunning { await job.run() }
        await telemetry.shutdown()
        let spans = try server.requests.filter { $0.path == "/v1/traces" }.flatMap {
            try OTLPCodec.decode(OTLPTracesRequest.self, from: ByteBuffer(bytes: $0.body), encoding: .protobuf).resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans)
        }
        await server.close()
        #expect(outcome.exitCode == 0)
        let records = spans.filter { $0.name == "process_record" }
        let model = spans.filter { $0.name == "model.forward" }
        #expect(model.count == 2)
        for span in model {
            let parent = try #require(records.first { $0.spanID == span.parentSpanID })
            #expect(parent.traceID == span.traceID)
            #expect(span.attributes.first { $0.key == "model.features" }?.value.intValue == 3)
        }
    }
}
