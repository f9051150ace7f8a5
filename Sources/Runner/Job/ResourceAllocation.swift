import Shared

/// The cores and memory the job is priced at, and where each figure came from.
struct ResourceAllocation: Sendable, Equatable {
    /// Limit cores: what each record's cost is computed with (the lab prices the 500m limit).
    var cpuCores: Double
    var memoryBytes: Double
    /// Request cores (defaults to the limit): the floor of the job's OpenCost-style allocation.
    var cpuRequestCores: Double
    var memoryRequestBytes: Double
    /// `env`, `cgroup` or `host`.
    var cpuSource: String
    var memorySource: String

    var memoryGB: Double { memoryBytes / 1_073_741_824 }
    var memoryMB: Double { memoryBytes / 1_048_576 }
    var memoryRequestGB: Double { memoryRequestBytes / 1_073_741_824 }

    /// `CPU_LIMIT`/`MEMORY_LIMIT`, else the cgroup limits, else the host; requests default to the limits.
    static func resolve(
        _ settings: ResourceSettings,
        cgroup: CgroupReader = CgroupReader(),
        hostCores: Double = ProcessStats.hostCores(),
        hostMemoryBytes: Double = ProcessStats.hostMemoryBytes()
    ) -> ResourceAllocation {
        let cpu: (Double, String) =
            if let limit = settings.cpuLimit { (limit.cores, "env") } else if let cores = cgroup.cpuLimitCores() { (cores, "cgroup") } else {
                (hostCores, "host")
            }
        let memory: (Double, String) =
            if let limit = settings.memoryLimit { (limit.bytes, "env") } else if let bytes = cgroup.memoryLimitBytes() { (bytes, "cgroup") } else {
                (hostMemoryBytes, "host")
            }
        return ResourceAllocation(
            cpuCores: cpu.0, memoryBytes: memory.0,
            cpuRequestCores: settings.cpuRequest?.cores ?? cpu.0,
            memoryRequestBytes: settings.memoryRequest?.bytes ?? memory.0,
            cpuSource: cpu.1, memorySource: memory.1)
    }
}
