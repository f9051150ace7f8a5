import Logging
import ServiceLifecycle
import Shared
import SwiftProtobuf
import Testing

@testable import Collector

@Suite("Batch processor")
struct BatchProcessorTests {
    /// Runs `processor` as a service, lets `body` use it, then shuts it down gracefully.
    private func withRunning<P: PipelinePayload>(
        _ processor: BatchProcessor<P, ContinuousClock>, _ body: () async throws -> Void
    ) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(services: [processor], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    private func processor(
        _ config: BatchConfig, sink: SinkConsumer<OTLPTracesRequest>
    ) -> BatchProcessor<OTLPTracesRequest, ContinuousClock> {
        BatchProcessor(id: ComponentID(type: "batch"), config: config, next: sink, clock: ContinuousClock(), logger: Logger(label: "test"))
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test("a full batch goes out at send_batch_size without waiting for the timer")
    func sizeTrigger() async throws {
        let sink = SinkConsumer<OTLPTracesRequest>()
        let batch = processor(BatchConfig(timeout: .seconds(60), sendBatchSize: 10, sendBatchMaxSize: 0), sink: sink)
        try await withRunning(batch) {
            for _ in 0..<4 { try await batch.consume(makeTraces(3)) }
            try await waitUntil { !sink.payloads.isEmpty }
            #expect(sink.payloads.map(\.itemCount) == [12])
            #expect(await batch.sizeTriggeredSends == 1)
        }
    }

    @Test("pending items go out when the timeout fires")
    func timeoutTrigger() async throws {
        let sink = SinkConsumer<OTLPTracesRequest>()
        let batch = processor(BatchConfig(timeout: .milliseconds(50), sendBatchSize: 1000, sendBatchMaxSize: 0), sink: sink)
        try await withRunning(batch) {
            try await batch.consume(makeTraces(5))
            try await waitUntil { !sink.payloads.isEmpty }
            #expect(sink.itemCount == 5)
            #expect(await batch.timeoutTriggeredSends == 1)
        }
    }

    @Test("batches over send_batch_max_size are split, nothing lost, order kept")
    func split() async throws {
        let sink = SinkConsumer<OTLPTracesRequest>()
        let batch = processor(BatchConfig(timeout: .seconds(60), sendBatchSize: 10, sendBatchMaxSize: 10), sink: sink)
        try await withRunning(batch) {
            try await batch.consume(makeTraces(25))
            try await waitUntil { sink.itemCount >= 20 }
        }
        #expect(sink.payloads.map(\.itemCount) == [10, 10, 5])
        let names = sink.payloads.flatMap { $0.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.name) } } }
        #expect(names == (0..<25).map { "span\($0)" })
    }

    @Test("graceful shutdown flushes what is pending")
    func flushOnShutdown() async throws {
        let sink = SinkConsumer<OTLPTracesRequest>()
        let batch = processor(BatchConfig(timeout: .seconds(60), sendBatchSize: 1000, sendBatchMaxSize: 0), sink: sink)
        try await withRunning(batch) {
            for _ in 0..<7 { try await batch.consume(makeTraces(2)) }
            #expect(sink.payloads.isEmpty)
        }
        #expect(sink.itemCount == 14)
    }

    @Test("timeout 0 makes a pure splitter: everything goes out at once")
    func noTimer() async throws {
        let sink = SinkConsumer<OTLPTracesRequest>()
        let batch = processor(BatchConfig(timeout: .zero, sendBatchSize: 8192, sendBatchMaxSize: 4), sink: sink)
        try await withRunning(batch) {
            try await batch.consume(makeTraces(9))
            try await waitUntil { sink.itemCount == 9 }
        }
        #expect(sink.payloads.map(\.itemCount) == [4, 4, 1])
    }

    @Test("empty payloads are discarded")
    func empty() async throws {
        let sink = SinkConsumer<OTLPTracesRequest>()
        let batch = processor(BatchConfig(timeout: .zero, sendBatchSize: 1, sendBatchMaxSize: 0), sink: sink)
        try await withRunning(batch) {
            try await batch.consume(OTLPTracesRequest())
        }
        #expect(sink.payloads.isEmpty)
    }
}
