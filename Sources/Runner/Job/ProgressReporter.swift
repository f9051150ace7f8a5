import Logging
import Shared

#if canImport(Glibc)
import Glibc
#endif

/// Reports progress until cancelled: on a terminal, a bar with rate and ETA redrawn on stderr; otherwise
/// a `Progress` log line every `interval`. Also refreshes the CPU and memory gauges and flushes stdout.
struct ProgressReporter: Sendable {
    let progress: JobProgress
    let interval: Duration
    let isTerminal: Bool
    let logger: Logger
    let stdout: OutputStreamWriter
    let stderr: OutputStreamWriter
    let metrics: MetricsRecorder
    let allocatedCores: Double

    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    func run() async {
        let started = ContinuousClock.now
        let cpuAtStart = ProcessStats.cpuTimeSeconds()
        var lastReport = started
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            stdout.flush()
            let now = ContinuousClock.now
            let elapsed = BatchJob.milliseconds(started.duration(to: now)) / 1000
            let processed = progress.processed
            let total = progress.total
            let rate = elapsed > 0 ? Double(processed) / elapsed : 0
            let eta = rate > 0 && total > processed ? Double(total - processed) / rate : 0
            if isTerminal {
                stderr.write(Self.bar(processed: processed, total: total, rate: rate, eta: eta))
            }
            guard lastReport.duration(to: now) >= interval else { continue }
            lastReport = now
            if allocatedCores > 0, elapsed > 0 {
                metrics.set(.cpuUtilization, (ProcessStats.cpuTimeSeconds() - cpuAtStart) / (elapsed * allocatedCores))
            }
            metrics.set(.memoryUsedMB, ProcessStats.peakResidentBytes() / 1_048_576)
            if !isTerminal {
                logger.info(
                    "Progress",
                    metadata: [
                        "processed": .integer(processed), "total_records": .integer(total), "records_per_second": .number(rate.rounded()),
                        "eta_seconds": .number(eta.rounded()),
                    ])
            }
        }
        if isTerminal { stderr.write("\n") }
    }

    /// `\r[#########...........]  45.0%  45000/100000  123456 rec/s  ETA 4s`
    static func bar(processed: Int, total: Int, rate: Double, eta: Double, width: Int = 30) -> String {
        let fraction = total > 0 ? min(1, Double(processed) / Double(total)) : 0
        let filled = Int(fraction * Double(width))
        let percent = (fraction * 1000).rounded() / 10
        return "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(percent)%  \(processed)/\(total)  \(Int(rate)) rec/s  ETA \(Int(eta.rounded()))s  "
    }
}
