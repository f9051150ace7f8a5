import Synchronization

/// Items of one signal produced, exported and dropped, for the summary. After the final flush
/// `produced == exported + dropped` holds exactly. Atomics: `produced` is counted once per item, without a lock.
final class ExportCounters: Sendable {
    struct Snapshot: Sendable, Equatable {
        var produced = 0
        var exported = 0
        var dropped = 0
    }

    private let producedCount = Atomic<Int>(0)
    private let exportedCount = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)

    func produced(_ count: Int) { producedCount.add(count, ordering: .sequentiallyConsistent) }
    func exported(_ count: Int) { exportedCount.add(count, ordering: .sequentiallyConsistent) }
    func dropped(_ count: Int) { droppedCount.add(count, ordering: .sequentiallyConsistent) }
    var snapshot: Snapshot {
        Snapshot(
            produced: producedCount.load(ordering: .sequentiallyConsistent), exported: exportedCount.load(ordering: .sequentiallyConsistent),
            dropped: droppedCount.load(ordering: .sequentiallyConsistent))
    }
}

/// The result of exporting one batch.
struct ExportResult: Sendable, Equatable {
    var exported: Int
    var dropped: Int
}

/// Exports a batch of items before a deadline, retrying as it sees fit; never throws: what it could not
/// deliver is reported as dropped. The batch is the exporter's only until `export` returns (the queue then reuses
/// its memory): an exporter copies what it keeps.
protocol BatchExporter<Batch>: Sendable {
    associatedtype Batch: ExportBatch & Sendable
    func export(_ batch: Batch, deadline: ContinuousClock.Instant) async -> ExportResult
}
