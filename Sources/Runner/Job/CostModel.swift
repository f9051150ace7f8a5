/// The cost arithmetic. Rates are USD per hour; durations are seconds.
///
/// Per record: `(cores × cpu_rate + memory_gb × memory_rate) × seconds / 3600`. At 45 ms, 0.5 cores,
/// 0.5 GB, $0.04 and $0.005 per hour that is 2.8125e-7 USD (the lab's text says ≈ $0.0001: its
/// arithmetic is wrong).
struct CostModel: Sendable, Equatable {
    var cpuPerHour: Double
    var memoryGBPerHour: Double

    /// USD for holding `cores` and `memoryGB` for `seconds`.
    func cost(cores: Double, memoryGB: Double, seconds: Double) -> Double {
        (cores * cpuPerHour + memoryGB * memoryGBPerHour) * seconds / 3600
    }

    /// The job's cost the way OpenCost allocates: each resource at max(request, usage), over the wall time.
    func jobCost(allocation: ResourceAllocation, cpuSecondsUsed: Double, peakMemoryGB: Double, wallSeconds: Double) -> JobCost {
        let usedCores = wallSeconds > 0 ? cpuSecondsUsed / wallSeconds : 0
        let cores = max(allocation.cpuRequestCores, usedCores)
        let memory = max(allocation.memoryRequestGB, peakMemoryGB)
        return JobCost(
            allocatedCores: cores, allocatedMemoryGB: memory,
            usd: cost(cores: cores, memoryGB: memory, seconds: wallSeconds))
    }
}

/// The job's allocated resources and what they cost.
struct JobCost: Sendable, Equatable {
    var allocatedCores: Double
    var allocatedMemoryGB: Double
    var usd: Double
}
