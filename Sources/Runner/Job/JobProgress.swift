import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the job has done so far, shared with the progress reporter and the signal handler.
final class JobProgress: Sendable {
    private let processedCount = Atomic<Int>(0)
    private let totalCount = Atomic<Int>(0)
    private let stopSignal = Atomic<Int32>(0)

    var processed: Int { processedCount.load(ordering: .relaxed) }
    var total: Int { totalCount.load(ordering: .relaxed) }

    func setTotal(_ total: Int) { totalCount.store(total, ordering: .relaxed) }
    func recordProcessed() { processedCount.add(1, ordering: .relaxed) }

    /// Asks the job to stop after the current record (SIGTERM, SIGINT).
    func requestStop(signal: Int32) {
        _ = stopSignal.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
    }

    /// The signal that asked the job to stop, or 0.
    var stopRequestedBy: Int32 { stopSignal.load(ordering: .relaxed) }
}
