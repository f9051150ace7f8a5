import CGlibcMalloc
import CoreMetrics
import Logging
import ServiceLifecycle
import Shared
import Synchronization


/// The measuring half of `memory_limiter`: one per component id, shared by every pipeline that lists
/// it (reference §4.3–4.6), deciding on each `check_interval` tick whether data is refused.
///
/// What it measures, and why: there is no garbage-collected heap to read, so usage is the process's
/// resident memory (`/proc/self/statm`), which is what the container's cgroup limit and the OOM killer
/// count. Between ticks it adds the bytes of request bodies the receivers are holding right now (read
/// but not yet answered), so a burst cannot run far past the limit before the next tick sees it.
/// Above the soft limit it first returns freed heap pages to the kernel (`malloc_trim`, this runtime's
/// analogue of upstream's forced GC) and measures again; above the hard limit it also asks the batch
/// processors to send what they hold, so memory is shed rather than grown.
final class MemoryLimiter: Service, Sendable {
    let id: ComponentID
    let config: MemoryLimiterConfig
    let hardLimit: Int
    let softLimit: Int
    private let logger: Logger
    private let readResident: @Sendable () -> Int
    private let state = Mutex(State())
    private let shedders = Mutex<[@Sendable () async -> Void]>([])

    private struct State {
        var refusing = false
        var residentAtTick = 0
        var heldBytes = 0
        var refusedItems = 0
        var acceptedItems = 0
    }

    init(
        id: ComponentID, config: MemoryLimiterConfig, logger: Logger,
        totalMemory: () -> Double = MemoryLimiterConfig.totalMemory,
        readResident: @escaping @Sendable () -> Int = { Int(ProcessStats.residentBytes() ?? 0) }
    ) {
        self.id = id
        self.config = config
        (hardLimit, softLimit) = config.limits(totalMemory: totalMemory)
        self.logger = logger
        self.readResident = readResident
    }

    /// Whether data is refused now: the flag set at the last tick, or the burst since then.
    var isRefusing: Bool {
        state.withLock { $0.refusing || $0.residentAtTick + $0.heldBytes >= softLimit }
    }

    /// How long a refused sender should wait: one check interval, at least a second.
    var retryAfter: Duration { max(.seconds(1), config.checkInterval) }

    /// Registers `bytes` of request body a receiver is about to read and hold until `release`, unless
    /// they would take usage to the soft limit: then nothing is registered and the caller refuses the
    /// request. Reserving before reading is what keeps many large concurrent requests from overshooting
    /// the limit between two ticks.
    func reserve(_ bytes: Int) -> Bool {
        state.withLock {
            guard !$0.refusing, $0.residentAtTick + $0.heldBytes + bytes < softLimit else { return false }
            $0.heldBytes += bytes
            return true
        }
    }

    func release(_ bytes: Int) { state.withLock { $0.heldBytes -= bytes } }

    func count(accepted: Int = 0, refused: Int = 0) {
        state.withLock {
            $0.acceptedItems += accepted
            $0.refusedItems += refused
        }
    }

    var counts: (accepted: Int, refused: Int) { state.withLock { ($0.acceptedItems, $0.refusedItems) } }

    /// Called above the hard limit (batch processors register a flush).
    func onHardLimit(_ shed: @escaping @Sendable () async -> Void) {
        shedders.withLock { $0.append(shed) }
    }

    func run() async throws {
        logger.info("Memory limiter configured", metadata: [
            "limit_mib": "\(hardLimit / 1_048_576)", "spike_limit_mib": "\((hardLimit - softLimit) / 1_048_576)",
            "check_interval": "\(GoDuration.format(config.checkInterval))",
        ])
        if !config.ignoredGCKeys.isEmpty {
            logger.warning("Ignoring GC settings: this collector has no garbage collector to pace",
                           metadata: ["keys": "\(config.ignoredGCKeys.joined(separator: ", "))"])
        }
        await check()
        let ticks = AsyncStream<Void> { continuation in
            let task = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: config.checkInterval)
                    continuation.yield()
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        for await _ in ticks.cancelOnGracefulShutdown() {
            await check()
        }
    }

    /// One tick: measure, trim if needed, decide, shed above the hard limit.
    func check() async {
        var resident = readResident()
        if resident >= softLimit {
            HeapTrim.releaseFreeMemory()
            resident = readResident()
        }
        let wasRefusing = state.withLock { $0.refusing }
        let refusing = resident >= softLimit
        state.withLock {
            $0.residentAtTick = resident
            $0.refusing = refusing
        }
        if refusing && !wasRefusing {
            logger.warning("Memory usage is above soft limit. Refusing data.", metadata: ["cur_mem_mib": "\(resident / 1_048_576)"])
        } else if !refusing && wasRefusing {
            logger.info("Memory usage back within limits. Resuming normal operation.", metadata: ["cur_mem_mib": "\(resident / 1_048_576)"])
        }
        if resident >= hardLimit {
            logger.warning("Memory usage is above hard limit. Sending pending batches.", metadata: ["cur_mem_mib": "\(resident / 1_048_576)"])
            for shed in shedders.withLock({ $0 }) { await shed() }
        }
    }
}

/// The consuming half: placed in a pipeline, refuses while its limiter says so (retryable: the
/// receiver answers 503 with `Retry-After`), else passes data on. Should be the first processor.
struct MemoryLimiterProcessor<Payload: PipelinePayload>: Consumer {
    let limiter: MemoryLimiter
    let next: any Consumer<Payload>
    /// `otelcol_processor_memory_limiter_{accepted,refused}_*` of this signal.
    var metrics: MemoryLimiterMetrics? = nil

    func consume(_ payload: Payload) async throws {
        if limiter.isRefusing {
            limiter.count(refused: payload.itemCount)
            metrics?.refused.increment(by: payload.itemCount)
            throw ConsumerError.refused("data refused due to high memory usage", retryAfter: limiter.retryAfter)
        }
        limiter.count(accepted: payload.itemCount)
        metrics?.accepted.increment(by: payload.itemCount)
        try await next.consume(payload)
    }
}

/// glibc's `malloc_trim(0)`: hands free heap pages back to the kernel so resident memory reflects what
/// is in use. A no-op where there is no glibc (musl, Darwin).
enum HeapTrim {
    static func releaseFreeMemory() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
