import Foundation
import Logging
import Shared
import Testing

@testable import Collector

@Suite("Pipelines")
struct PipelineTests {
    @Test("fan-out: every consumer gets the data even when one fails; a refusal wins over a permanent error")
    func fanOut() async throws {
        let first = SinkConsumer<OTLPTracesRequest>()
        let second = SinkConsumer<OTLPTracesRequest>()
        let fanOut = FanOutConsumer<OTLPTracesRequest>(consumers: [
            first, FailingConsumer(error: .permanent("broken")), second,
            FailingConsumer(error: .refused("busy", retryAfter: .seconds(1))),
        ])
        do {
            try await fanOut.consume(makeTraces(3))
            Issue.record("expected an error")
        } catch ConsumerError.refused(let message, _) {
            #expect(message == "busy")
        }
        #expect(first.itemCount == 3)
        #expect(second.itemCount == 3)
    }

    @Test("the graph: receivers and exporters shared per signal, processors per pipeline, unused components not built")
    func graph() throws {
        let yaml = """
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
              otlp/unused:
                protocols:
                  http:
            processors:
              batch:
              memory_limiter:
                check_interval: 1s
                limit_mib: 1000
            exporters:
              debug:
            extensions:
              health_check:
            service:
              extensions: [health_check]
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [memory_limiter, batch]
                  exporters: [debug]
                traces/2:
                  receivers: [otlp]
                  processors: [memory_limiter, batch]
                  exporters: [debug]
                logs:
                  receivers: [otlp]
                  exporters: [debug]
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graph-\(UUID()).yaml").path
        FileManager.default.createFile(atPath: path, contents: Data(yaml.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try ConfigLoader(environment: [:]).load(paths: [path]).config
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let graph = try PipelineGraph(config: config, context: .init(logger: logger))
        let kinds = graph.services.map { String(describing: type(of: $0)) }
        // Start order: the extension, one shared memory limiter, a batch per traces pipeline, one receiver.
        #expect(kinds.first == "HealthCheckExtension")
        #expect(kinds.filter { $0 == "MemoryLimiter" }.count == 1)
        #expect(kinds.filter { $0.hasPrefix("BatchProcessor") }.count == 2)
        #expect(kinds.last == "OTLPHTTPReceiver")
        #expect(graph.receiverCount == 1)
        let receiver = try #require(graph.services.last as? OTLPHTTPReceiver)
        #expect(Set(receiver.routes.keys) == ["/v1/traces", "/v1/logs"])
        #expect(receiver.routes["/v1/traces"]?.limiters.count == 2)  // the same limiter, once per pipeline
        #expect(receiver.routes["/v1/logs"]?.limiters.isEmpty == true)
    }
}
