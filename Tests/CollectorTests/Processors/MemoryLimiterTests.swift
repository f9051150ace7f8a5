import Logging
import Shared
import Synchronization
import Testing

@testable import Collector

@Suite("Memory limiter")
struct MemoryLimiterTests {
    private static func config(_ mib: Int, spike: Int = 0, interval: Duration = .seconds(1)) -> MemoryLimiterConfig {
        MemoryLimiterConfig(checkInterval: interval, limitMiB: mib, spikeLimitMiB: spike)
    }

    /// The "resident memory" a test sets.
    final class Resident: Sendable {
        let bytes: Mutex<Int>
        init(_ bytes: Int) { self.bytes = Mutex(bytes) }
        func set(_ value: Int) { bytes.withLock { $0 = value } }
    }

    /// A limiter that reads `resident` instead of /proc.
    private func limiter(_ config: MemoryLimiterConfig, resident: Resident) -> MemoryLimiter {
        MemoryLimiter(id: ComponentID(type: "memory_limiter"), config: config, logger: Logger(label: "test"),
                      readResident: { resident.bytes.withLock { $0 } })
    }

    @Test("limits: spike defaults to 20 % of the limit; percentages use the container's total memory")
    func limits() {
        let fixed = Self.config(100).limits(totalMemory: { 0 })
        #expect(fixed.hard == 100 * 1_048_576)
        #expect(fixed.soft == 80 * 1_048_576)
        let spiked = Self.config(100, spike: 30).limits(totalMemory: { 0 })
        #expect(spiked.soft == 70 * 1_048_576)
        let percent = MemoryLimiterConfig(checkInterval: .seconds(1), limitPercentage: 80, spikeLimitPercentage: 15)
            .limits(totalMemory: { 1000 * 1_048_576 })
        #expect(percent.hard == 800 * 1_048_576)
        #expect(percent.soft == 650 * 1_048_576)
    }

    @Test("validation in upstream's order and wording", arguments: [
        (MemoryLimiterConfig(checkInterval: .zero, limitMiB: 10), "'check_interval' must be greater than zero"),
        (MemoryLimiterConfig(checkInterval: .seconds(1)), "'limit_mib' or 'limit_percentage' must be greater than zero"),
        (MemoryLimiterConfig(checkInterval: .seconds(1), limitMiB: 10, spikeLimitMiB: 10), "'spike_limit_mib' must be smaller than 'limit_mib'"),
        (MemoryLimiterConfig(checkInterval: .seconds(1), limitPercentage: 101),
         "'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to hundred"),
        (MemoryLimiterConfig(checkInterval: .seconds(1), limitPercentage: 50, spikeLimitPercentage: 50),
         "'spike_limit_percentage' must be smaller than 'limit_percentage'"),
    ])
    func validation(_ config: MemoryLimiterConfig, _ message: String) {
        #expect(config.validate() == message)
    }

    @Test("GC interval keys are validated like upstream's, then ignored")
    func gcKeys() {
        let config = Self.config(10)
        #expect(config.validate(gc: ["min_gc_interval_when_soft_limited": .seconds(1), "min_gc_interval_when_hard_limited": .seconds(2)])
            == "'min_gc_interval_when_soft_limited' should be larger than 'min_gc_interval_when_hard_limited'")
        #expect(config.validate(gc: ["max_gc_interval_when_soft_limited": .seconds(5)])
            == "'max_gc_interval_when_soft_limited' must be greater than or equal to 'min_gc_interval_when_soft_limited' (or 0 to disable)")
        #expect(config.validate(gc: ["min_gc_interval_when_soft_limited": .seconds(20)]) == nil)
    }

    @Test("refuses at or above the soft limit after a tick, accepts again below it")
    func refusal() async throws {
        let resident = Resident(10 * 1_048_576)
        let limiter = limiter(Self.config(100), resident: resident)
        await limiter.check()
        #expect(!limiter.isRefusing)
        resident.set(80 * 1_048_576)
        #expect(!limiter.isRefusing)  // decided on ticks only
        await limiter.check()
        #expect(limiter.isRefusing)
        resident.set(79 * 1_048_576)
        await limiter.check()
        #expect(!limiter.isRefusing)
    }

    @Test("bodies reserved by receivers count between ticks; a reservation reaching the soft limit is refused")
    func reservedBytes() async {
        let resident = Resident(50 * 1_048_576)
        let limiter = limiter(Self.config(100), resident: resident)
        await limiter.check()
        #expect(limiter.reserve(29 * 1_048_576))
        #expect(!limiter.isRefusing)
        #expect(!limiter.reserve(1 * 1_048_576))  // 50 + 29 + 1 reaches the soft limit of 80 MiB
        #expect(!limiter.isRefusing)  // the refused reservation registered nothing
        #expect(limiter.reserve(1 * 1_048_576 - 1))  // one byte below it
        #expect(!limiter.reserve(1))
        limiter.release(30 * 1_048_576 - 1)
        #expect(limiter.reserve(29 * 1_048_576))
        // A tick at the soft limit refuses every reservation until a tick finds usage below it again.
        resident.set(80 * 1_048_576)
        await limiter.check()
        #expect(limiter.isRefusing)
        #expect(!limiter.reserve(1))
    }

    @Test("a receiver reserves, beyond the body, only what decompressing and decoding add")
    func addedSizes() {
        #expect(MemoryReservation.addedSize(plainBytes: 1000, encoding: .protobuf, compression: .identity) == 0)
        #expect(MemoryReservation.addedSize(plainBytes: 1000, encoding: .protobuf, compression: .gzip) == 1000)
        #expect(MemoryReservation.addedSize(plainBytes: 1000, encoding: .json, compression: .identity) == 1000)
        #expect(MemoryReservation.addedSize(plainBytes: 1000, encoding: .json, compression: .deflate) == 2000)
    }

    @Test("the processor refuses with a retryable error and counts; passes data on otherwise")
    func processor() async throws {
        let resident = Resident(90 * 1_048_576)
        let limiter = limiter(Self.config(100, interval: .seconds(3)), resident: resident)
        let sink = SinkConsumer<OTLPTracesRequest>()
        let processor = MemoryLimiterProcessor(limiter: limiter, next: sink)
        await limiter.check()
        do {
            try await processor.consume(makeTraces(4))
            Issue.record("expected a refusal")
        } catch ConsumerError.refused(let message, let retryAfter) {
            #expect(message == "data refused due to high memory usage")
            #expect(retryAfter == .seconds(3))
        }
        resident.set(1)
        await limiter.check()
        try await processor.consume(makeTraces(2))
        #expect(sink.itemCount == 2)
        #expect(limiter.counts.accepted == 2)
        #expect(limiter.counts.refused == 4)
    }

    @Test("above the hard limit the registered batches are asked to send")
    func shedding() async {
        let resident = Resident(200 * 1_048_576)
        let limiter = limiter(Self.config(100), resident: resident)
        let calls = Resident(0)
        limiter.onHardLimit { calls.bytes.withLock { $0 += 1 } }
        await limiter.check()
        #expect(calls.bytes.withLock { $0 } == 1)
    }
}
