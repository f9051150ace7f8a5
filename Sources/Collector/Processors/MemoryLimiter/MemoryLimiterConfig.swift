import Shared

/// `processors: memory_limiter:` — upstream keys, defaults and validation order (reference §4.1–4.2).
struct MemoryLimiterConfig: Sendable, Equatable {
    /// `check_interval`: required, > 0 (recommended 1s).
    var checkInterval: Duration = .zero
    /// `limit_mib`: hard limit; wins over `limit_percentage`.
    var limitMiB = 0
    /// `spike_limit_mib`: default 20 % of the limit; soft limit = hard − spike.
    var spikeLimitMiB = 0
    /// `limit_percentage` of the container's memory limit (cgroup v2, v1, else total RAM).
    var limitPercentage = 0
    /// `spike_limit_percentage`, default 20 % of the computed hard limit.
    var spikeLimitPercentage = 0
    /// Upstream's GC pacing keys, accepted for compatibility (there is no GC to pace here).
    var ignoredGCKeys: [String] = []

    static let gcKeys = [
        "min_gc_interval_when_soft_limited", "min_gc_interval_when_hard_limited",
        "max_gc_interval_when_soft_limited", "max_gc_interval_when_hard_limited",
    ]

    static func decode(_ reader: inout ConfigReader) -> MemoryLimiterConfig {
        var config = MemoryLimiterConfig()
        config.checkInterval = reader.duration("check_interval") ?? .zero
        config.limitMiB = reader.int("limit_mib") ?? 0
        config.spikeLimitMiB = reader.int("spike_limit_mib") ?? 0
        config.limitPercentage = reader.int("limit_percentage") ?? 0
        config.spikeLimitPercentage = reader.int("spike_limit_percentage") ?? 0
        var gc: [String: Duration] = [:]
        for key in gcKeys where reader.keys.contains(key) {
            config.ignoredGCKeys.append(key)
            if let value = reader.duration(key) { gc[key] = value }
        }
        if let message = config.validate(gc: gc) { reader.fail(nil, message) }
        return config
    }

    /// The first problem, in upstream's order and wording.
    func validate(gc: [String: Duration] = [:]) -> String? {
        let minSoft = gc["min_gc_interval_when_soft_limited"] ?? .seconds(10)
        let minHard = gc["min_gc_interval_when_hard_limited"] ?? .zero
        let maxSoft = gc["max_gc_interval_when_soft_limited"] ?? .seconds(30)
        let maxHard = gc["max_gc_interval_when_hard_limited"] ?? .seconds(30)
        if checkInterval <= .zero { return "'check_interval' must be greater than zero" }
        if minSoft < minHard { return "'min_gc_interval_when_soft_limited' should be larger than 'min_gc_interval_when_hard_limited'" }
        if maxSoft < .zero { return "'max_gc_interval_when_soft_limited' must be non-negative" }
        if maxHard < .zero { return "'max_gc_interval_when_hard_limited' must be non-negative" }
        if maxSoft > .zero && maxSoft < minSoft {
            return "'max_gc_interval_when_soft_limited' must be greater than or equal to 'min_gc_interval_when_soft_limited' (or 0 to disable)"
        }
        if maxHard > .zero && maxHard < minHard {
            return "'max_gc_interval_when_hard_limited' must be greater than or equal to 'min_gc_interval_when_hard_limited' (or 0 to disable)"
        }
        if maxSoft > .zero && maxHard > .zero && maxSoft < maxHard {
            return "'max_gc_interval_when_soft_limited' should be larger than or equal to 'max_gc_interval_when_hard_limited' (when both are set)"
        }
        if limitMiB <= 0 && limitPercentage <= 0 { return "'limit_mib' or 'limit_percentage' must be greater than zero" }
        if limitPercentage > 100 || spikeLimitPercentage > 100 || limitPercentage < 0 || spikeLimitPercentage < 0 {
            return "'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to hundred"
        }
        if limitMiB > 0 && spikeLimitMiB >= limitMiB { return "'spike_limit_mib' must be smaller than 'limit_mib'" }
        if limitPercentage > 0 && spikeLimitPercentage >= limitPercentage {
            return "'spike_limit_percentage' must be smaller than 'limit_percentage'"
        }
        return nil
    }

    /// Hard and soft limits in bytes; `totalMemory` is read only in percentage mode.
    func limits(totalMemory: () -> Double) -> (hard: Int, soft: Int) {
        if limitMiB > 0 {
            let hard = limitMiB * 1_048_576
            let spike = spikeLimitMiB > 0 ? spikeLimitMiB * 1_048_576 : hard / 5
            return (hard, hard - spike)
        }
        let total = totalMemory()
        let hard = Int(total * Double(limitPercentage) / 100)
        let spike = spikeLimitPercentage > 0 ? Int(total * Double(spikeLimitPercentage) / 100) : hard / 5
        return (hard, hard - spike)
    }

    /// The container's memory limit (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`), else total RAM.
    static func totalMemory() -> Double {
        CgroupReader().memoryLimitBytes() ?? ProcessStats.hostMemoryBytes()
    }
}
