import Shared
import SwiftProtobuf
import Synchronization
import Testing

@testable import Runner

/// Records batches; can be made slow to exercise backpressure.
final class RecordingExporter: BatchExporter, Sendable {
    let batches = Mutex<[[Int]]>([])
    let delay: Duration
    let accept: Bool

    init(delay: Duration = .zero, accept: Bool = true) {
        self.delay = delay
        self.accept = accept
    }

    func export(_ items: [Int], deadline: ContinuousClock.Instant) async -> ExportResult {
        if delay > .zero { try? await Task.sleep(for: delay) }
        batches.withLock { $0.append(items) }
        return accept ? ExportResult(exported: items.count, dropped: 0) : ExportResult(exported: 0, dropped: items.count)
    }
}

struct BatchQueueTests {
    @Test func fullQueueSlowsTheProducerAndLosesNothing() async {
        let exporter = RecordingExporter(delay: .milliseconds(5))
        let settings = BatchSettings(scheduleDelay: .seconds(60), exportTimeout: .seconds(5), maxQueueSize: 20, maxExportBatchSize: 10)
        let queue = BatchQueue(settings: settings, exporter: exporter)
        var maxPending = 0
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for item in 0..<500 {
                queue.append(item)
                maxPending = max(maxPending, queue.pendingCount)
                await queue.waitForCapacity()
            }
            queue.shutdown(deadline: .now.advanced(by: .seconds(5)))
        }
        let exported = exporter.batches.withLock { $0 }.flatMap { $0 }
        #expect(exported == Array(0..<500))
        #expect(maxPending <= 20)
        #expect(exporter.batches.withLock { $0 }.allSatisfy { $0.count <= 10 })
        #expect(queue.counters.snapshot == .init(produced: 500, exported: 500, dropped: 0))
    }

    @Test func scheduleDelayExportsPartialBatches() async {
        let exporter = RecordingExporter()
        let settings = BatchSettings(scheduleDelay: .milliseconds(50), exportTimeout: .seconds(5), maxQueueSize: 100, maxExportBatchSize: 50)
        let queue = BatchQueue(settings: settings, exporter: exporter)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            queue.append(1)
            queue.append(2)
            // Only the 50 ms timer can send a batch of 2 when batches hold 50 (generous bound for a loaded machine).
            _ = await ChildProcess.eventually(timeout: .seconds(20)) { !exporter.batches.withLock { $0 }.isEmpty }
            #expect(exporter.batches.withLock { $0 } == [[1, 2]])
            queue.shutdown(deadline: .now.advanced(by: .seconds(1)))
        }
    }

    @Test func droppedItemsAreCountedExactly() async {
        let exporter = RecordingExporter(accept: false)
        let settings = BatchSettings(scheduleDelay: .seconds(60), exportTimeout: .seconds(5), maxQueueSize: 100, maxExportBatchSize: 7)
        let queue = BatchQueue(settings: settings, exporter: exporter)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for item in 0..<30 { queue.append(item) }
            queue.shutdown(deadline: .now.advanced(by: .seconds(5)))
        }
        queue.append(99)  // after shutdown: counted as dropped
        #expect(queue.counters.snapshot == .init(produced: 31, exported: 0, dropped: 31))
    }

    @Test func flushDeadlineBoundsTheShutdown() async {
        let exporter = RecordingExporter(delay: .milliseconds(400))
        let settings = BatchSettings(scheduleDelay: .seconds(60), exportTimeout: .seconds(5), maxQueueSize: 100, maxExportBatchSize: 1)
        let queue = BatchQueue(settings: settings, exporter: exporter)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for item in 0..<20 { queue.append(item) }
            queue.shutdown(deadline: .now.advanced(by: .milliseconds(500)))
        }
        // Without the deadline the 20 exports take 8 s; with it, 0.5 s plus one export in flight (0.9 s), and
        // generous slack for a loaded 2-core machine.
        #expect(start.duration(to: .now) < .seconds(5))
        let counts = queue.counters.snapshot
        #expect(counts.exported + counts.dropped == 20)
        #expect(counts.dropped > 0)
    }

    /// With `maxConcurrentExports` 2, two batches are exported at once (never more), and the counters are final when
    /// the queue says it is finished, even when the last export to end is not the last one started.
    @Test func concurrentExportsOverlapAndCountExactly() async {
        let exporter = ConcurrencyRecordingExporter(delay: .milliseconds(100))
        var settings = BatchSettings(scheduleDelay: .seconds(60), exportTimeout: .seconds(5), maxQueueSize: 100, maxExportBatchSize: 10)
        settings.maxConcurrentExports = 2
        let queue = BatchQueue(settings: settings, exporter: exporter)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for item in 0..<65 {
                queue.append(item)
                await queue.waitForCapacity()
            }
            queue.shutdown(deadline: .now.advanced(by: .seconds(20)))
        }
        #expect(queue.isFinished)
        #expect(queue.counters.snapshot == .init(produced: 65, exported: 65, dropped: 0))
        let state = exporter.state.withLock { $0 }
        #expect(state.items.sorted() == Array(0..<65))
        #expect(state.batchSizes.sorted() == [5, 10, 10, 10, 10, 10, 10])
        #expect(state.maxInFlight == 2)
    }

    /// Spans encoded into the queue's chunks go out as whole chunks of `maxExportBatchSize`, then the rest, each batch
    /// the spans' `Span` messages framed as `ScopeSpans.spans`, in order; an exported chunk's memory is used again.
    @Test func encodedItemsGoOutInWholeChunks() async throws {
        let exporter = EncodedRecordingExporter()
        let settings = BatchSettings(scheduleDelay: .seconds(60), exportTimeout: .seconds(5), maxQueueSize: 40, maxExportBatchSize: 10)
        let queue = BatchQueue(settings: settings, storage: EncodedItems(chunkCapacity: 10, chunkBytes: 64), exporter: exporter)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for index in 0..<25 {
                queue.consume { writer in
                    writer.string(5, "span \(index)")
                    writer.fixed64(7, UInt64(index))
                }
                await queue.waitForCapacity()
            }
            queue.shutdown(deadline: .now.advanced(by: .seconds(5)))
        }
        let batches = exporter.batches.withLock { $0 }
        #expect(batches.map(\.count) == [10, 10, 5])
        let names = try batches.flatMap { try OTLPScopeSpans(serializedBytes: $0.bytes).spans.map(\.name) }
        #expect(names == (0..<25).map { "span \($0)" })
        #expect(queue.counters.snapshot == .init(produced: 25, exported: 25, dropped: 0))
    }

    @Test func encodedItemsChunksAndRecycling() throws {
        var items = EncodedItems(chunkCapacity: 3, chunkBytes: 1)
        for index in 0..<7 { items.append { $0.varint(1, UInt64(index)) } }
        #expect(items.count == 7)
        let first = items.takeBatch(maxCount: 3)
        #expect(first.count == 3 && items.count == 4)
        #expect(first.bytes == [0x12, 2, 0x08, 0, 0x12, 2, 0x08, 1, 0x12, 2, 0x08, 2])
        items.recycle(first)  // its memory holds the next chunk
        for index in 7..<9 { items.append { $0.varint(1, UInt64(index)) } }
        #expect(items.takeBatch(maxCount: 3).bytes == [0x12, 2, 0x08, 3, 0x12, 2, 0x08, 4, 0x12, 2, 0x08, 5])
        #expect(items.takeBatch(maxCount: 3).bytes == [0x12, 2, 0x08, 6, 0x12, 2, 0x08, 7, 0x12, 2, 0x08, 8])
        #expect(items.count == 0)
        items.append { $0.varint(1, 9) }  // into the recycled chunk, emptied
        #expect(items.takeBatch(maxCount: 3).bytes == [0x12, 2, 0x08, 9])
    }
}

/// Keeps a copy of every encoded batch (a batch's memory is reused once `export` returns).
final class EncodedRecordingExporter: BatchExporter, Sendable {
    struct Copy: Equatable {
        var count: Int
        var bytes: [UInt8]
    }

    let batches = Mutex<[Copy]>([])

    func export(_ batch: EncodedBatch, deadline: ContinuousClock.Instant) async -> ExportResult {
        batches.withLock { $0.append(Copy(count: batch.count, bytes: batch.bytes)) }
        return ExportResult(exported: batch.count, dropped: 0)
    }
}

/// Counts the exports in flight at once.
final class ConcurrencyRecordingExporter: BatchExporter, Sendable {
    struct State {
        var inFlight = 0
        var maxInFlight = 0
        var items: [Int] = []
        var batchSizes: [Int] = []
    }

    let state = Mutex(State())
    let delay: Duration

    init(delay: Duration) {
        self.delay = delay
    }

    func export(_ items: [Int], deadline: ContinuousClock.Instant) async -> ExportResult {
        state.withLock { state in
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
        }
        try? await Task.sleep(for: delay)
        state.withLock { state in
            state.inFlight -= 1
            state.items += items
            state.batchSizes.append(items.count)
        }
        return ExportResult(exported: items.count, dropped: 0)
    }
}
