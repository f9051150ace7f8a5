import Synchronization

/// Items of one signal produced, exported and dropped, for the summary. After the final flush
/// `produced == exported + dropped` holds exactly.
final class ExportCounters: Sendable {
    struct Snapshot: Sendable, Equatable {
        var produced = 0
        var exported = 0
        var dropped = 0
    }

    private let state = Mutex(Snapshot())

    func produced(_ count: Int) { state.withLock { $0.produced += count } }
    func exported(_ count: Int) { state.withLock { $0.exported += count } }
    func dropped(_ count: Int) { state.withLock { $0.dropped += count } }
    var snapshot: Snapshot { state.withLock { $0 } }
}

/// The result of exporting one batch.
struct ExportResult: Sendable, Equatable {
    var exported: Int
    var dropped: Int
}

/// Exports a batch of items before a deadline, retrying as it sees fit; never throws: what it could not
/// deliver is reported as dropped.
protocol BatchExporter<Item>: Sendable {
    associatedtype Item: Sendable
    func export(_ items: [Item], deadline: ContinuousClock.Instant) async -> ExportResult
}
