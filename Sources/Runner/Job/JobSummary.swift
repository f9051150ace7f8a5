import Logging

/// Running totals of the job, kept by the job loop alone (no locks).
struct JobTotals: Sendable {
    var processed = 0
    var successful = 0
    var failed = 0
    var predictionSum = 0.0
    var latencySumMs = 0.0
    var costSumUSD = 0.0

    var averagePrediction: Double { successful > 0 ? predictionSum / Double(successful) : 0 }
    var averageLatencyMs: Double { successful > 0 ? latencySumMs / Double(successful) : 0 }
    var costPerRecordUSD: Double { successful > 0 ? costSumUSD / Double(successful) : 0 }
    var failedRatio: Double { processed > 0 ? Double(failed) / Double(processed) : 0 }
}

/// The `summary` object of `Batch job completed`: the lab's fields plus the job's cost, throughput and
/// what happened to the telemetry.
struct JobSummary: Sendable {
    var totals: JobTotals
    var costTracking: Bool
    var wallSeconds: Double
    var cpuUtilization: Double
    var memoryUsedMB: Double
    var jobCost: JobCost
    var spans: ExportCounters.Snapshot
    var metricPoints: ExportCounters.Snapshot
    var logRecords: ExportCounters.Snapshot
    var telemetryExported: Bool
    var interruptedBy: Int32

    var recordsPerSecond: Double { wallSeconds > 0 ? Double(totals.processed) / wallSeconds : 0 }

    var metadata: Logger.MetadataValue {
        var fields: Logger.Metadata = [
            "total_records": .integer(totals.processed),
            "successful": .integer(totals.successful),
            "failed": .integer(totals.failed),
            "avg_prediction": .number(totals.averagePrediction),
            "total_latency_ms": .number(totals.latencySumMs),
            "avg_latency_ms": .number(totals.averageLatencyMs),
            "cpu_utilization": .number(cpuUtilization),
            "memory_used_mb": .number(memoryUsedMB),
            "records_per_second": .number(recordsPerSecond),
            "wall_time_ms": .number(wallSeconds * 1000),
        ]
        if costTracking {
            fields["total_cost_usd"] = .number(totals.costSumUSD)
            fields["cost_per_record_usd"] = .number(totals.costPerRecordUSD)
            fields["job_cost_usd"] = .number(jobCost.usd)
            fields["cost_per_million_records_usd"] = .number(totals.processed > 0 ? jobCost.usd / Double(totals.processed) * 1e6 : 0)
            fields["cost_efficiency"] = .number(jobCost.usd > 0 ? totals.costSumUSD / jobCost.usd : 0)
            fields["allocated_cpu_cores"] = .number(jobCost.allocatedCores)
            fields["allocated_memory_gb"] = .number(jobCost.allocatedMemoryGB)
        }
        if telemetryExported {
            fields["telemetry"] = .dictionary([
                "spans_exported": .integer(spans.exported), "spans_dropped": .integer(spans.dropped),
                "metric_points_exported": .integer(metricPoints.exported), "metric_points_dropped": .integer(metricPoints.dropped),
                "log_records_exported": .integer(logRecords.exported), "log_records_dropped": .integer(logRecords.dropped),
            ])
        }
        if interruptedBy != 0 { fields["interrupted_by_signal"] = .integer(Int(interruptedBy)) }
        return .dictionary(fields)
    }
}
