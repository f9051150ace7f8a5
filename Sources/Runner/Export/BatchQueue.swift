import Synchronization

/// A bounded queue in front of an exporter, after swift-otel's batch processor, changed for a batch job:
/// when the queue is full the producer waits (`waitForCapacity`) instead of dropping, so memory stays
/// bounded and nothing is lost while the collector is slow. Items go out in batches of
/// `maxExportBatchSize`, as soon as a batch is full or every `scheduleDelay`, up to
/// `maxConcurrentExports` exports at a time (as the collector's exporters' `sending_queue.num_consumers`: while one
/// batch waits for the collector's answer, the next one is on its way). The items are
/// kept in `Storage`: an array of them, or `EncodedItems` (the spans and log records, encoded where they are made).
final class BatchQueue<Storage: BatchStorage & Sendable>: Sendable where Storage.Batch: Sendable {
    typealias Batch = Storage.Batch
    let settings: BatchSettings
    let counters: ExportCounters
    private let exporter: any BatchExporter<Batch>
    private let state: Mutex<State>
    /// `state.items.count`, readable without the lock (`isFull`).
    private let queued = Atomic<Int>(0)

    private struct State {
        var items: Storage
        /// Export workers waiting for work.
        var idleWorkers: [CheckedContinuation<Void, Never>] = []
        var wakePending = false
        /// Batches taken and not yet counted.
        var inFlight = 0
        var timerFired = false
        var capacityWaiters: [CheckedContinuation<Void, Never>] = []
        var flushDeadline: ContinuousClock.Instant?
        var finished = false
    }

    init(settings: BatchSettings, storage: Storage, exporter: any BatchExporter<Batch>, counters: ExportCounters = ExportCounters()) {
        self.settings = settings
        self.exporter = exporter
        self.counters = counters
        self.state = Mutex(State(items: storage))
    }

    // MARK: - Producer side

    /// Enqueues one item (`add` puts it into the storage) without waiting; the queue may pass its bound by what
    /// one record produces, until the producer calls `waitForCapacity()`. After shutdown, items are counted as
    /// dropped (and `add` is not called).
    func append(_ add: (inout Storage) -> Void) {
        counters.produced(1)
        let (accepted, wake) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            add(&state.items)
            queued.store(state.items.count, ordering: .relaxed)
            guard state.items.count % settings.maxExportBatchSize == 0 else { return (true, nil) }
            return (true, Self.takeWakeup(&state))
        }
        if !accepted { counters.dropped(1) }
        wake?.resume()
    }

    /// Whether the queue holds `maxQueueSize` items or more: a load, no lock, so the producer asks this per item
    /// and calls `waitForCapacity()` only when it is true.
    var isFull: Bool { queued.load(ordering: .relaxed) >= settings.maxQueueSize }

    /// Returns once the queue is below `maxQueueSize` (immediately in the common case).
    func waitForCapacity() async {
        let full = state.withLock { !$0.finished && $0.items.count >= settings.maxQueueSize }
        guard full else { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                guard !state.finished, state.items.count >= settings.maxQueueSize else { return true }
                state.capacityWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Items waiting to be exported.
    var pendingCount: Int { state.withLock { $0.items.count } }

    /// True once the queue has drained after `shutdown(deadline:)`.
    var isFinished: Bool { state.withLock { $0.finished } }

    // MARK: - Export loop

    /// Exports until `shutdown(deadline:)` has been called and the queue is drained (or the deadline
    /// passed, dropping and counting the rest), with `maxConcurrentExports` workers. Runs the schedule-delay timer as
    /// a child task.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: settings.scheduleDelay)
                    let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        state.timerFired = true
                        return Self.takeWakeup(&state)
                    }
                    wake?.resume()
                }
            }
            await withTaskGroup(of: Void.self) { workers in
                for _ in 0..<max(1, settings.maxConcurrentExports) { workers.addTask { await self.exportLoop() } }
            }
            group.cancelAll()
        }
    }

    /// Stops accepting items and drains the queue before `deadline`; `run()` returns when done.
    func shutdown(deadline: ContinuousClock.Instant) {
        let idle = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.flushDeadline = deadline
            defer { state.idleWorkers.removeAll() }
            return state.idleWorkers
        }
        idle.forEach { $0.resume() }
    }

    /// One export worker. While flushing, a worker that finds nothing left to take stops; the last one (no export in
    /// flight) marks the queue finished, so the counters are final once `isFinished` is true.
    private func exportLoop() async {
        while true {
            await waitForWork()
            while let next = nextBatch() {
                let (batch, deadline) = next
                let result = await exporter.export(batch, deadline: deadline)
                counters.exported(result.exported)
                counters.dropped(result.dropped + max(0, batch.count - result.exported - result.dropped))
                state.withLock { state in
                    state.items.recycle(batch)
                    state.inFlight -= 1
                }
            }
            let (stop, resume) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                guard let flushDeadline = state.flushDeadline else { return (false, []) }
                if state.items.count > 0, ContinuousClock.now < flushDeadline { return (false, []) }
                // Past the flush deadline: what is left cannot be delivered in time.
                counters.dropped(state.items.count)
                state.items.removeAll()
                queued.store(0, ordering: .relaxed)
                guard state.inFlight == 0 else { return (true, []) }  // the worker exporting finishes the queue
                state.finished = true
                defer {
                    state.capacityWaiters.removeAll()
                    state.idleWorkers.removeAll()
                }
                return (true, state.capacityWaiters + state.idleWorkers)
            }
            resume.forEach { $0.resume() }
            if stop { return }
        }
    }

    /// The next batch to export: full batches always; partial ones after the timer fired or while flushing.
    private func nextBatch() -> (Batch, ContinuousClock.Instant)? {
        let next = state.withLock { state -> (Batch, [CheckedContinuation<Void, Never>], ContinuousClock.Instant)? in
            let flushing = state.flushDeadline != nil
            if let flushDeadline = state.flushDeadline, ContinuousClock.now >= flushDeadline { return nil }
            guard state.items.count > 0, state.items.count >= settings.maxExportBatchSize || state.timerFired || flushing else {
                state.timerFired = false
                return nil
            }
            let batch = state.items.takeBatch(maxCount: settings.maxExportBatchSize)
            state.inFlight += 1
            queued.store(state.items.count, ordering: .relaxed)
            var waiters: [CheckedContinuation<Void, Never>] = []
            if state.items.count < settings.maxQueueSize {
                waiters = state.capacityWaiters
                state.capacityWaiters.removeAll()
            }
            var deadline = ContinuousClock.now.advanced(by: settings.exportTimeout == .zero ? .seconds(3600) : settings.exportTimeout)
            if let flushDeadline = state.flushDeadline { deadline = min(deadline, flushDeadline) }
            return (batch, waiters, deadline)
        }
        guard let (batch, waiters, deadline) = next else { return nil }
        waiters.forEach { $0.resume() }
        return (batch, deadline)
    }

    private func waitForWork() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.wakePending || state.flushDeadline != nil || state.items.count >= settings.maxExportBatchSize {
                    state.wakePending = false
                    return true
                }
                state.idleWorkers.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// An idle worker to resume, or, if none waits, a note for the next one that there is work.
    private static func takeWakeup(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        guard !state.idleWorkers.isEmpty else {
            state.wakePending = true
            return nil
        }
        return state.idleWorkers.removeFirst()
    }
}

extension BatchQueue {
    /// A queue of items kept as they are, in an array.
    convenience init<Item: Sendable>(settings: BatchSettings, exporter: any BatchExporter<[Item]>, counters: ExportCounters = ExportCounters())
    where Storage == [Item] {
        self.init(settings: settings, storage: [], exporter: exporter, counters: counters)
    }

    /// Enqueues `item` (`append(_:)` above).
    func append<Item: Sendable>(_ item: Item) where Storage == [Item] {
        append { $0.append(item) }
    }
}
