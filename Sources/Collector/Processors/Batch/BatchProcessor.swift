import CoreMetrics
import Logging
import ServiceLifecycle
import Shared
import SwiftProtobuf

/// The `batch` processor with upstream's semantics (reference §3.2–3.3), one instance per pipeline.
///
/// Items (spans, data points, log records) accumulate until `send_batch_size` is reached (trigger
/// "size") or the timer fires with items pending (trigger "timeout"); the timer restarts after every
/// send and every tick, so the timeout is measured from the previous send, as upstream's. Batches
/// over `send_batch_max_size` are split. `timeout: 0` or `send_batch_size: 0` makes it a pure splitter.
///
/// Unlike upstream's, a caller that finds more than `maxPendingItems` waiting is held until the
/// exporter has caught up: memory stays bounded and nothing accepted is dropped. On graceful shutdown
/// (after the receivers have stopped) everything pending is sent before `run()` returns.
actor BatchProcessor<Payload: PipelinePayload, C: Clock<Duration>>: Consumer, Service {
    let id: ComponentID
    let config: BatchConfig
    private let next: any Consumer<Payload>
    private let clock: C
    private let logger: Logger
    /// Back-pressure threshold: a few batches' worth of items.
    let maxPendingItems: Int

    private var pending = Payload()
    private var pendingItems = 0
    private var lastSend: C.Instant
    private var sending = false
    private var wakeSender: CheckedContinuation<Void, Never>?
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var shuttingDown = false

    /// Batches sent because of size and because of the timer (for the collector's own metrics).
    private(set) var sizeTriggeredSends = 0
    private(set) var timeoutTriggeredSends = 0

    /// `otelcol_processor_batch_*`: items per batch and the trigger of each send.
    private let metrics: BatchMetrics?

    init(id: ComponentID, config: BatchConfig, next: any Consumer<Payload>, clock: C, logger: Logger, metrics: BatchMetrics? = nil) {
        self.id = id
        self.metrics = metrics
        self.config = config
        self.next = next
        self.clock = clock
        self.logger = logger
        self.lastSend = clock.now
        let batch = config.sendBatchMaxSize > 0 ? config.sendBatchMaxSize : max(config.sendBatchSize, 1)
        // About two batches, the one being filled and the one the exporter is sending: upstream holds as
        // much, since its receivers block on an unbuffered hand-off while the exporter is busy.
        self.maxPendingItems = max(2 * batch, 1024)
    }

    private var usesTimer: Bool { config.timeout > .zero && config.sendBatchSize > 0 }

    // MARK: - Consumer

    func consume(_ payload: Payload) async throws {
        let items = payload.itemCount
        guard items > 0 else { return }
        while pendingItems >= maxPendingItems && !shuttingDown {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        pending.append(contentsOf: payload)
        pendingItems += items
        if !usesTimer || pendingItems >= config.sendBatchSize {
            wakeSender?.resume()
            wakeSender = nil
        }
    }

    // MARK: - Service

    func run() async throws {
        // Cancellation (another service failed, e.g. a port already in use) ends the loop like a
        // graceful shutdown; without it the send loop would wait for a wake-up that never comes.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    if usesTimer {
                        group.addTask { await self.runTimer() }
                    }
                    await sendLoop()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                // The handler is synchronous and may run on any thread; hop onto the actor to wake the
                // send loop. The task is short-lived and `run()` waits for the loop it ends.
                Task { await self.beginShutdown() }
            }
        } onCancel: {
            Task { await self.beginShutdown() }
        }
        // Final flush: everything still pending goes out as upstream's last "timeout" batch.
        await sendAll(trigger: .timeout)
    }

    private enum Trigger { case size, timeout }

    /// Sends full batches whenever woken, until shutdown.
    private func sendLoop() async {
        while !shuttingDown {
            if pendingItems > 0 && (!usesTimer || pendingItems >= config.sendBatchSize) {
                await sendFullBatches()
                continue
            }
            await withCheckedContinuation { wakeSender = $0 }
        }
    }

    private func sendFullBatches() async {
        if !usesTimer {
            await sendAll(trigger: .size)
            return
        }
        while pendingItems >= config.sendBatchSize {
            await send(take(), trigger: .size)
        }
        lastSend = clock.now
    }

    /// Fires every `timeout` after the previous send or tick; sends what is pending.
    private func runTimer() async {
        while !Task.isCancelled {
            let deadline = lastSend.advanced(by: config.timeout)
            do { try await clock.sleep(until: deadline, tolerance: nil) } catch { return }
            guard clock.now >= lastSend.advanced(by: config.timeout) else { continue }
            if pendingItems > 0 && !sending {
                await send(take(), trigger: .timeout)
            }
            lastSend = clock.now
        }
    }

    private func sendAll(trigger: Trigger) async {
        while pendingItems > 0 {
            await send(take(), trigger: trigger)
        }
    }

    /// Removes the next batch: everything, or the first `send_batch_max_size` items.
    private func take() -> Payload {
        let batch: Payload
        if config.sendBatchMaxSize > 0 && pendingItems > config.sendBatchMaxSize {
            batch = pending.removeFirst(items: config.sendBatchMaxSize)
            pendingItems -= config.sendBatchMaxSize
        } else {
            batch = pending
            pending = Payload()
            pendingItems = 0
        }
        if pendingItems < maxPendingItems {
            for waiter in spaceWaiters { waiter.resume() }
            spaceWaiters.removeAll()
        }
        return batch
    }

    private func send(_ batch: Payload, trigger: Trigger) async {
        sending = true
        defer { sending = false }
        switch trigger {
        case .size:
            sizeTriggeredSends += 1
            metrics?.sizeTriggerSends.increment()
        case .timeout:
            timeoutTriggeredSends += 1
            metrics?.timeoutTriggerSends.increment()
        }
        metrics?.sendSize.record(batch.itemCount)
        do {
            try await next.consume(batch)
        } catch {
            // Upstream logs and drops here (the caller was already answered).
            logger.warning("Sender failed", metadata: ["error": "\(error)", "dropped_items": "\(batch.itemCount)"])
        }
    }

    /// Sends everything pending now (the memory limiter calls this above its hard limit).
    func flushNow() async {
        await sendAll(trigger: .size)
        lastSend = clock.now
    }

    private func beginShutdown() {
        shuttingDown = true
        wakeSender?.resume()
        wakeSender = nil
        for waiter in spaceWaiters { waiter.resume() }
        spaceWaiters.removeAll()
    }
}
