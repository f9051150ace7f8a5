import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Shared
import Synchronization
import Testing

@testable import Collector

/// The collector's own metrics, each test on its own registry: exact values after known input.
@Suite("Collector telemetry")
struct CollectorTelemetryTests {
    private let otlp = ["receiver": "otlp", "transport": "http"]

    private func telemetry(
        _ level: TelemetryMetricsConfig.Level = .normal, reader: TelemetryMetricsConfig.PrometheusReader = .init()
    ) -> CollectorTelemetry {
        CollectorTelemetry(
            level: level, reader: reader, registry: PrometheusCollectorRegistry(),
            processStats: { (uptime: 0, cpuSeconds: 0, residentBytes: 0) })
    }

    private func receiverApp(
        _ telemetry: CollectorTelemetry, consumer: any Consumer<PipelineData<OTLPTracesRequest>>
    ) -> some ApplicationProtocol {
        let routes: [String: OTLPHTTPReceiver.SignalRoute] = [
            "/v1/traces": .make(
                OTLPTracesRequest.self, consumer: consumer, logger: Logger(label: "test"),
                metrics: telemetry.receiver(ComponentID(type: "otlp"), transport: "http", signal: .traces))
        ]
        return application(serving: OTLPHTTPReceiver.Responder(routes: routes, maxBodySize: 1 << 20))
    }

    private func post(_ app: some ApplicationProtocol, _ body: ByteBuffer, contentType: String = "application/x-protobuf") async throws
        -> HTTPResponse.Status
    {
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/traces", method: .post, headers: [.contentType: contentType], body: body) { $0.status }
        }
    }

    // MARK: - Receiver

    @Test("receiver: accepted spans are the items of requests answered 200; a 400 and an empty request count nothing")
    func receiverAccepted() async throws {
        let telemetry = telemetry()
        let sink = SinkConsumer<PipelineData<OTLPTracesRequest>>()
        let app = receiverApp(telemetry, consumer: sink)
        #expect(try await post(app, try OTLPCodec.encode(makeTraces(3), as: .protobuf)) == .ok)
        #expect(try await post(app, try OTLPCodec.encode(makeTraces(4), as: .json), contentType: "application/json") == .ok)
        #expect(try await post(app, ByteBuffer(bytes: [0x0A, 0xFF])) == .badRequest)
        #expect(try await post(app, ByteBuffer()) == .ok)
        let text = PrometheusText(telemetry.render())
        #expect(sink.itemCount == 7)
        #expect(text.value("otelcol_receiver_accepted_spans", otlp) == 7)
        #expect(text.value("otelcol_receiver_refused_spans", otlp) == 0)
        #expect(text.types["otelcol_receiver_accepted_spans"] == "counter")
    }

    @Test(
        "receiver: a pipeline error (retryable 503 or permanent 500) counts the request's items as refused",
        arguments: [
            (ConsumerError.refused("data refused due to high memory usage", retryAfter: .seconds(1)), HTTPResponse.Status.serviceUnavailable),
            (ConsumerError.permanent("broken"), HTTPResponse.Status.internalServerError),
        ])
    func receiverRefused(_ error: ConsumerError, _ status: HTTPResponse.Status) async throws {
        let telemetry = telemetry()
        let app = receiverApp(telemetry, consumer: FailingConsumer(error: error))
        #expect(try await post(app, try OTLPCodec.encode(makeTraces(5), as: .protobuf)) == status)
        #expect(try await post(app, try OTLPCodec.encode(makeTraces(2), as: .protobuf)) == status)
        let text = PrometheusText(telemetry.render())
        #expect(text.value("otelcol_receiver_refused_spans", otlp) == 7)
        #expect(text.value("otelcol_receiver_accepted_spans", otlp) == 0)
    }

    // MARK: - Exporter

    @Test("exporter: sent items per batch, send_failed when the exporter throws (the error is passed on)")
    func exporter() async throws {
        let telemetry = telemetry()
        let debug = ComponentID(type: "debug")
        let good = MeteredExporter<OTLPTracesRequest>(exporter: SinkConsumer(), metrics: telemetry.exporter(debug, signal: .traces))
        try await good.consume(makeTraces(3))
        try await good.consume(makeTraces(6))
        let failingID = try ComponentID(parsing: "debug/broken")
        let bad = MeteredExporter<OTLPTracesRequest>(
            exporter: FailingConsumer(error: .permanent("disk full")), metrics: telemetry.exporter(failingID, signal: .traces))
        await #expect(throws: ConsumerError.self) { try await bad.consume(makeTraces(4)) }
        let text = PrometheusText(telemetry.render())
        #expect(text.value("otelcol_exporter_sent_spans", ["exporter": "debug"]) == 9)
        #expect(text.value("otelcol_exporter_send_failed_spans", ["exporter": "debug"]) == 0)
        #expect(text.value("otelcol_exporter_sent_spans", ["exporter": "debug/broken"]) == 0)
        #expect(text.value("otelcol_exporter_send_failed_spans", ["exporter": "debug/broken"]) == 4)
    }

    // MARK: - Batch

    @Test("batch: send size histogram with upstream's buckets, size and timeout triggers")
    func batch() async throws {
        let telemetry = telemetry(.normal)
        let sink = SinkConsumer<OTLPTracesRequest>()
        let processor = BatchProcessor<OTLPTracesRequest, ContinuousClock>(
            id: ComponentID(type: "batch"), config: BatchConfig(timeout: .seconds(60), sendBatchSize: 40, sendBatchMaxSize: 40),
            next: sink, clock: ContinuousClock(), logger: Logger(label: "test"), metrics: telemetry.batch(ComponentID(type: "batch")))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(services: [processor], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await processor.consume(makeTraces(100))  // 40 + 40 by size; 20 wait for the timer
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while sink.itemCount < 80 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            await group.triggerGracefulShutdown()  // the last 20 go out as upstream's final "timeout" send
            try await tasks.waitForAll()
        }
        #expect(sink.payloads.map(\.itemCount) == [40, 40, 20])
        let text = PrometheusText(telemetry.render())
        let batch = ["processor": "batch"]
        #expect(text.value("otelcol_processor_batch_batch_size_trigger_send", batch) == 2)
        #expect(text.value("otelcol_processor_batch_timeout_trigger_send", batch) == 1)
        #expect(text.value("otelcol_processor_batch_batch_send_size_count", batch) == 3)
        #expect(text.value("otelcol_processor_batch_batch_send_size_sum", batch) == 100)
        let name = "otelcol_processor_batch_batch_send_size"
        #expect(text.bucket(name, batch, le: 10) == 0)
        #expect(text.bucket(name, batch, le: 25) == 1)
        #expect(text.bucket(name, batch, le: 50) == 3)
        #expect(text.bucket(name, batch, le: .infinity) == 3)
        let bounds = text.samples.filter { $0.name == name + "_bucket" }.compactMap { $0.labels["le"] }
            .filter { $0 != "+Inf" }.compactMap(Double.init)
        #expect(bounds == CollectorTelemetry.batchSendSizeBuckets)
        #expect(text.types[name] == "histogram")
    }

    // MARK: - Memory limiter

    @Test("memory_limiter: items accepted below the soft limit and refused above it, per signal")
    func memoryLimiter() async throws {
        let telemetry = telemetry()
        let resident = MemoryLimiterTests.Resident(10 << 20)
        let limiter = MemoryLimiter(
            id: ComponentID(type: "memory_limiter"),
            config: MemoryLimiterConfig(checkInterval: .seconds(1), limitMiB: 100, spikeLimitMiB: 20),
            logger: Logger(label: "test"), readResident: { resident.bytes.withLock { $0 } })
        let processor = MemoryLimiterProcessor<OTLPLogsRequest>(
            limiter: limiter, next: SinkConsumer(), metrics: telemetry.memoryLimiter(ComponentID(type: "memory_limiter"), signal: .logs))
        await limiter.check()
        try await processor.consume(makeLogs(3))
        resident.set(90 << 20)
        await limiter.check()
        await #expect(throws: ConsumerError.self) { try await processor.consume(makeLogs(5)) }
        let text = PrometheusText(telemetry.render())
        let labels = ["processor": "memory_limiter"]
        #expect(text.value("otelcol_processor_memory_limiter_accepted_log_records", labels) == 3)
        #expect(text.value("otelcol_processor_memory_limiter_refused_log_records", labels) == 5)
    }

    // MARK: - Process

    @Test("process: uptime and CPU seconds are counters that follow the readings, RSS a gauge")
    func process() {
        let reading = Reading((uptime: 2.5, cpuSeconds: 1.25, residentBytes: 3_145_728))
        let telemetry = CollectorTelemetry(
            level: .basic, registry: PrometheusCollectorRegistry(), processStats: { reading.value.withLock { $0 } })
        var text = PrometheusText(telemetry.render())
        #expect(text.value("otelcol_process_uptime") == 2.5)
        #expect(text.value("otelcol_process_cpu_seconds") == 1.25)
        #expect(text.value("otelcol_process_memory_rss") == 3_145_728)
        #expect(text.types["otelcol_process_uptime"] == "counter")
        #expect(text.types["otelcol_process_memory_rss"] == "gauge")
        reading.value.withLock { $0 = (uptime: 4, cpuSeconds: 1.5, residentBytes: 1_048_576) }
        text = PrometheusText(telemetry.render())
        #expect(text.value("otelcol_process_uptime") == 4)
        #expect(text.value("otelcol_process_cpu_seconds") == 1.5)
        #expect(text.value("otelcol_process_memory_rss") == 1_048_576)
    }

    @Test("the real process reading: uptime grows, RSS is this process's")
    func systemReading() async throws {
        let read = ProcessMetrics.systemReading()
        let first = read()
        try await Task.sleep(for: .milliseconds(20))
        let second = read()
        #expect(second.uptime >= first.uptime + 0.02)
        #expect(second.residentBytes > 1_000_000)
        #expect(second.cpuSeconds > 0)
    }

    // MARK: - Levels and names

    @Test("levels: basic leaves out the batch metrics, none serves nothing, detailed serves what normal does")
    func levels() async throws {
        func served(_ level: TelemetryMetricsConfig.Level) -> Set<String> {
            let telemetry = telemetry(level)
            _ = telemetry.receiver(ComponentID(type: "otlp"), transport: "http", signal: .metrics)
            _ = telemetry.exporter(ComponentID(type: "debug"), signal: .logs)
            _ = telemetry.batch(ComponentID(type: "batch"))
            _ = telemetry.memoryLimiter(ComponentID(type: "memory_limiter"), signal: .traces)
            return PrometheusText(telemetry.render()).names
        }
        let basic: Set<String> = [
            "otelcol_receiver_accepted_metric_points", "otelcol_receiver_refused_metric_points",
            "otelcol_exporter_sent_log_records", "otelcol_exporter_send_failed_log_records",
            "otelcol_processor_memory_limiter_accepted_spans", "otelcol_processor_memory_limiter_refused_spans",
            "otelcol_process_uptime", "otelcol_process_cpu_seconds", "otelcol_process_memory_rss",
        ]
        let batch: Set<String> = [
            "otelcol_processor_batch_batch_size_trigger_send", "otelcol_processor_batch_timeout_trigger_send",
            "otelcol_processor_batch_batch_send_size_bucket", "otelcol_processor_batch_batch_send_size_sum",
            "otelcol_processor_batch_batch_send_size_count",
        ]
        #expect(served(.none).isEmpty)
        #expect(served(.basic) == basic)
        #expect(served(.normal) == basic.union(batch))
        #expect(served(.detailed) == basic.union(batch))
    }

    @Test("without_type_suffix: false adds _total to counters; without_units: false adds the process units")
    func suffixes() {
        let telemetry = CollectorTelemetry(
            level: .normal, reader: .init(withoutTypeSuffix: false, withoutUnits: false), registry: PrometheusCollectorRegistry(),
            processStats: { (uptime: 1, cpuSeconds: 2, residentBytes: 3) })
        let receiver = telemetry.receiver(ComponentID(type: "otlp"), transport: "http", signal: .logs)
        receiver.accepted.increment(by: 6)
        let batch = telemetry.batch(ComponentID(type: "batch"))
        batch.sizeTriggerSends.increment()
        let text = PrometheusText(telemetry.render())
        #expect(text.value("otelcol_receiver_accepted_log_records_total", otlp) == 6)
        #expect(text.value("otelcol_processor_batch_batch_size_trigger_send_total", ["processor": "batch"]) == 1)
        #expect(text.value("otelcol_process_uptime_seconds_total") == 1)
        #expect(text.value("otelcol_process_cpu_seconds_total") == 2)
        #expect(text.value("otelcol_process_memory_rss_bytes") == 3)
        #expect(text.value("otelcol_processor_batch_batch_send_size_count", ["processor": "batch"]) == 0)
    }

    @Test("the pipeline graph wires every component to the telemetry it is given")
    func graph() async throws {
        let yaml = """
            receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
            processors: {batch: {}, memory_limiter: {check_interval: 1s, limit_mib: 4000}}
            exporters: {debug: {}}
            service:
              pipelines:
                metrics: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [debug]}
            """
        let config = try CollectorConfig.decode(try ConfigValue.parse(yaml: yaml))
        let telemetry = telemetry()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        _ = try PipelineGraph(config: config, context: .init(logger: logger, exporterOutput: .memory(), telemetry: telemetry))
        let names = PrometheusText(telemetry.render()).names
        for name in [
            "otelcol_receiver_accepted_metric_points", "otelcol_exporter_sent_metric_points",
            "otelcol_processor_memory_limiter_refused_metric_points", "otelcol_processor_batch_timeout_trigger_send",
        ] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(!names.contains("otelcol_receiver_accepted_spans"))  // no traces pipeline, no traces route
    }

    // MARK: - Server

    @Test("GET /metrics answers the text exposition; other paths 404, other methods 405")
    func server() async throws {
        let telemetry = telemetry()
        telemetry.receiver(ComponentID(type: "otlp"), transport: "http", signal: .traces).accepted.increment(by: 11)
        let app = application(serving: MetricsServer.Responder(telemetry: telemetry))
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(PrometheusText(String(buffer: response.body)).value("otelcol_receiver_accepted_spans", otlp) == 11)
            }
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/metrics", method: .post) { #expect($0.status == .methodNotAllowed) }
        }
    }
}

/// Process readings a test changes between scrapes.
final class Reading: Sendable {
    let value: Mutex<(uptime: Double, cpuSeconds: Double, residentBytes: Double)>
    init(_ value: (uptime: Double, cpuSeconds: Double, residentBytes: Double)) { self.value = Mutex(value) }
}

/// A logs request of `count` empty log records.
func makeLogs(_ count: Int) -> OTLPLogsRequest {
    var scope = OTLPScopeLogs()
    scope.logRecords = (0..<count).map { _ in OTLPLogRecord() }
    var resource = OTLPResourceLogs()
    resource.scopeLogs = [scope]
    var request = OTLPLogsRequest()
    request.resourceLogs = [resource]
    return request
}
