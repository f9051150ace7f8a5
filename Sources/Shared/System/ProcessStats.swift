import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The calling process's resource use: CPU time, current and peak resident memory, and the host's size.
package enum ProcessStats {
    /// User + system CPU time consumed so far, in seconds (`getrusage(RUSAGE_SELF)`).
    package static func cpuTimeSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }

    /// Peak resident set size in bytes: `VmHWM` from `/proc/self/status`, else `ru_maxrss`.
    package static func peakResidentBytes(procRoot: String = "/proc") -> Double {
        if let kib = statusField("VmHWM", procRoot: procRoot) { return kib * 1024 }
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        #if canImport(Darwin)
        return Double(usage.ru_maxrss)
        #else
        return Double(usage.ru_maxrss) * 1024
        #endif
    }

    /// Current resident set size in bytes (`VmRSS`), or nil off Linux.
    package static func residentBytes(procRoot: String = "/proc") -> Double? {
        statusField("VmRSS", procRoot: procRoot).map { $0 * 1024 }
    }

    /// Online processors of the host.
    package static func hostCores() -> Double {
        Double(ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Physical memory of the host in bytes.
    package static func hostMemoryBytes() -> Double {
        Double(ProcessInfo.processInfo.physicalMemory)
    }

    /// A `kB` field of `/proc/self/status`, in KiB.
    private static func statusField(_ name: String, procRoot: String) -> Double? {
        guard let data = FileManager.default.contents(atPath: procRoot + "/self/status"),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            // The value follows a tab and padding spaces: `VmRSS:\t   19760 kB`.
            let fields = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.first.flatMap { Double($0) }
        }
        return nil
    }
}
