#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads the container's CPU and memory limits from cgroup v2 (`cpu.max`, `memory.max`) or, failing
/// that, cgroup v1 (`cpu.cfs_quota_us`/`cpu.cfs_period_us`, `memory.limit_in_bytes`).
///
/// Rooted at an injectable path so tests can point it at a fixture tree; in a container the root is
/// `/sys/fs/cgroup`. The process's own cgroup is not resolved: inside a container the namespace root is the
/// container's cgroup, which is what Kubernetes limits.
package struct CgroupReader: Sendable {
    /// The cgroup hierarchy version found under `root`.
    package enum Version: Sendable, Equatable {
        case v1
        case v2
    }

    /// The cgroup filesystem root (`/sys/fs/cgroup`).
    package var root: String

    package init(root: String = "/sys/fs/cgroup") {
        self.root = root
    }

    /// v2 when `cgroup.controllers` exists at the root, v1 when a `memory/` or `cpu/` controller
    /// directory does, else nil (no cgroup filesystem).
    package var version: Version? {
        if FileManager.default.fileExists(atPath: root + "/cgroup.controllers") { return .v2 }
        for controller in ["memory", "cpu", "cpu,cpuacct"] where FileManager.default.fileExists(atPath: root + "/" + controller) {
            return .v1
        }
        return nil
    }

    /// The CPU limit in cores (quota / period), or nil when unlimited or unreadable.
    package func cpuLimitCores() -> Double? {
        switch version {
        case .v2:
            // "max 100000" or "50000 100000"
            guard let fields = read("cpu.max")?.split(separator: " "), fields.count >= 1 else { return nil }
            guard fields[0] != "max", let quota = Double(fields[0]) else { return nil }
            let period = fields.count > 1 ? Double(fields[1]) ?? 100_000 : 100_000
            guard quota > 0, period > 0 else { return nil }
            return quota / period
        case .v1:
            for directory in ["cpu", "cpu,cpuacct"] {
                guard let quotaText = read(directory + "/cpu.cfs_quota_us"), let quota = Double(quotaText) else { continue }
                guard quota > 0, let periodText = read(directory + "/cpu.cfs_period_us"), let period = Double(periodText), period > 0 else {
                    return nil
                }
                return quota / period
            }
            return nil
        case nil:
            return nil
        }
    }

    /// The memory limit in bytes, or nil when unlimited (`max`, or v1's huge sentinel) or unreadable.
    package func memoryLimitBytes() -> Double? {
        let text: String?
        switch version {
        case .v2: text = read("memory.max")
        case .v1: text = read("memory/memory.limit_in_bytes")
        case nil: text = nil
        }
        guard let text, text != "max", let bytes = Double(text), bytes > 0 else { return nil }
        // cgroup v1 reports "no limit" as a page-aligned value near Int64.max.
        guard bytes < Double(1 << 60) else { return nil }
        return bytes
    }

    /// The current memory usage in bytes (`memory.current` / `memory.usage_in_bytes`).
    package func memoryUsageBytes() -> Double? {
        let text: String?
        switch version {
        case .v2: text = read("memory.current")
        case .v1: text = read("memory/memory.usage_in_bytes")
        case nil: text = nil
        }
        return text.flatMap(Double.init)
    }

    private func read(_ relativePath: String) -> String? {
        guard let data = FileManager.default.contents(atPath: root + "/" + relativePath),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        var trimmed = text[...]
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        return String(trimmed)
    }
}
