import Shared
import Synchronization

/// The job's gauges, by their lab names.
enum Gauge: String, CaseIterable, Sendable {
    case batchProcessingMs = "batch_processing_ms"
    case batchCostUSD = "batch_cost_usd"
    case costPerRecordUSD = "cost_per_record_usd"
    case cpuUtilization = "cpu_utilization"
    case memoryUsedMB = "memory_used_mb"

    var unit: String {
        switch self {
        case .batchProcessingMs: "ms"
        case .batchCostUSD, .costPerRecordUSD: "USD"
        case .cpuUtilization: "1"
        case .memoryUsedMB: "MiB"
        }
    }
}

/// Aggregates the lab's metrics in memory (cumulative temporality since the job started) and renders
/// them as an OTLP request: `batch_total_records` (counter by `status`), `record_latency_ms`
/// (histogram) and the gauges. One lock per record.
final class MetricsRecorder: Sendable {
    /// Histogram bounds in ms: sub-millisecond resolution for a fast model, and the lab's 50/100/150 ms.
    static let latencyBounds: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 150, 250, 500, 1000, 2500, 5000, 10000,
    ]

    private struct State {
        var succeeded: UInt64 = 0
        var failed: UInt64 = 0
        var bucketCounts = [UInt64](repeating: 0, count: MetricsRecorder.latencyBounds.count + 1)
        var latencyCount: UInt64 = 0
        var latencySum = 0.0
        var latencyMin = Double.infinity
        var latencyMax = -Double.infinity
        var gauges: [Gauge: Double] = [:]
    }

    let startNanos: UInt64
    private let state = Mutex(State())

    init(startNanos: UInt64) {
        self.startNanos = startNanos
    }

    /// Counts a record; `latencyMs` (successful records) goes into the histogram.
    func record(success: Bool, latencyMs: Double?) {
        let bucket = latencyMs.map { latency in Self.latencyBounds.firstIndex { latency <= $0 } ?? Self.latencyBounds.count }
        state.withLock { state in
            if success { state.succeeded += 1 } else { state.failed += 1 }
            guard let latencyMs, let bucket else { return }
            state.bucketCounts[bucket] += 1
            state.latencyCount += 1
            state.latencySum += latencyMs
            state.latencyMin = min(state.latencyMin, latencyMs)
            state.latencyMax = max(state.latencyMax, latencyMs)
        }
    }

    func set(_ gauge: Gauge, _ value: Double) {
        state.withLock { $0.gauges[gauge] = value }
    }

    /// Records counted so far (succeeded, failed).
    var counts: (succeeded: UInt64, failed: UInt64) { state.withLock { ($0.succeeded, $0.failed) } }

    /// Every metric as of `nowNanos`, one resource and scope.
    func snapshot(nowNanos: UInt64, resource: TelemetryResource) -> OTLPMetricsRequest {
        let state = self.state.withLock { $0 }
        var metrics: [OTLPMetric] = []

        var counter = OTLPMetric()
        counter.name = "batch_total_records"
        counter.description_p = "Records processed, by status"
        counter.unit = "1"
        var sum = Opentelemetry_Proto_Metrics_V1_Sum()
        sum.isMonotonic = true
        sum.aggregationTemporality = .cumulative
        sum.dataPoints = [("success", state.succeeded), ("failed", state.failed)].map { status, value in
            var point = numberPoint(nowNanos)
            point.asInt = Int64(value)
            point.attributes = [OTLPAttributes.string("status", status)]
            return point
        }
        counter.sum = sum
        metrics.append(counter)

        var histogram = OTLPMetric()
        histogram.name = "record_latency_ms"
        histogram.description_p = "Model latency per record"
        histogram.unit = "ms"
        var data = Opentelemetry_Proto_Metrics_V1_Histogram()
        data.aggregationTemporality = .cumulative
        var point = OTLPHistogramDataPoint()
        point.startTimeUnixNano = startNanos
        point.timeUnixNano = nowNanos
        point.count = state.latencyCount
        point.sum = state.latencySum
        if state.latencyCount > 0 {
            point.min = state.latencyMin
            point.max = state.latencyMax
        }
        point.explicitBounds = Self.latencyBounds
        point.bucketCounts = state.bucketCounts
        data.dataPoints = [point]
        histogram.histogram = data
        metrics.append(histogram)

        for gauge in Gauge.allCases {
            guard let value = state.gauges[gauge] else { continue }
            var metric = OTLPMetric()
            metric.name = gauge.rawValue
            metric.unit = gauge.unit
            var gaugeData = Opentelemetry_Proto_Metrics_V1_Gauge()
            var point = numberPoint(nowNanos)
            point.asDouble = value
            gaugeData.dataPoints = [point]
            metric.gauge = gaugeData
            metrics.append(metric)
        }

        var scopeMetrics = OTLPScopeMetrics()
        scopeMetrics.scope = resource.scope
        scopeMetrics.metrics = metrics
        var resourceMetrics = OTLPResourceMetrics()
        resourceMetrics.resource = resource.resource
        resourceMetrics.scopeMetrics = [scopeMetrics]
        var request = OTLPMetricsRequest()
        request.resourceMetrics = [resourceMetrics]
        return request
    }

    private func numberPoint(_ nowNanos: UInt64) -> OTLPNumberDataPoint {
        var point = OTLPNumberDataPoint()
        point.startTimeUnixNano = startNanos
        point.timeUnixNano = nowNanos
        return point
    }
}
