#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

extension DetailedTextFormatter {
    /// The text for a metrics request: each metric's descriptor, then its data points. Doubles in data points print
    /// with Go's `%f` (six decimals); a metric without data (`DataType: Empty`) prints only its descriptor.
    static func format(_ resourceMetrics: [OTLPResourceMetrics]) -> String {
        var pointCount = 0
        for resource in resourceMetrics {
            for scope in resource.scopeMetrics {
                for metric in scope.metrics { pointCount += 1 + MetricsShape.dataPointCount(metric) }
            }
        }
        var out = DebugTextBuffer(capacity: resourceMetrics.count * 512 + pointCount * 400)
        for (resourceIndex, resource) in resourceMetrics.enumerated() {
            out.line("ResourceMetrics #", resourceIndex)
            out.line("Resource SchemaURL: ", resource.schemaURL)
            writeResource(resource.resource, to: &out)
            for (scopeIndex, scope) in resource.scopeMetrics.enumerated() {
                out.line("ScopeMetrics #", scopeIndex)
                out.line("ScopeMetrics SchemaURL: ", scope.schemaURL)
                writeScope(scope.scope, to: &out)
                for (metricIndex, metric) in scope.metrics.enumerated() {
                    out.line("Metric #", metricIndex)
                    writeMetric(metric, to: &out)
                }
            }
        }
        return out.text
    }

    // MARK: - Descriptor

    private static func writeMetric(_ metric: OTLPMetric, to out: inout DebugTextBuffer) {
        out.line("Descriptor:")
        out.line("     -> Name: ", metric.name)
        out.line("     -> Description: ", metric.description_p)
        out.line("     -> Unit: ", metric.unit)
        out.line("     -> DataType: ", DebugTextNames.metricType(metric.data))
        writeAttributes(metric.metadata, header: "     -> Metadata", to: &out)
        switch metric.data {
        case nil:
            break
        case .gauge(let gauge):
            writeNumberDataPoints(gauge.dataPoints, to: &out)
        case .sum(let sum):
            out.line("     -> IsMonotonic: ", sum.isMonotonic ? "true" : "false")
            out.line("     -> AggregationTemporality: ", DebugTextNames.temporality(sum.aggregationTemporality))
            writeNumberDataPoints(sum.dataPoints, to: &out)
        case .histogram(let histogram):
            out.line("     -> AggregationTemporality: ", DebugTextNames.temporality(histogram.aggregationTemporality))
            writeHistogramDataPoints(histogram.dataPoints, to: &out)
        case .exponentialHistogram(let histogram):
            out.line("     -> AggregationTemporality: ", DebugTextNames.temporality(histogram.aggregationTemporality))
            writeExponentialHistogramDataPoints(histogram.dataPoints, to: &out)
        case .summary(let summary):
            writeSummaryDataPoints(summary.dataPoints, to: &out)
        }
    }

    // MARK: - Data points

    private static func writePointHeader(
        _ title: String, index: Int, attributes: [OTLPKeyValue], start: UInt64, time: UInt64,
        to out: inout DebugTextBuffer
    ) {
        out.line(title, index)
        writeAttributes(attributes, header: "Data point attributes", to: &out)
        out.line("StartTimestamp: ", timestamp: start)
        out.line("Timestamp: ", timestamp: time)
    }

    private static func writeNumberDataPoints(_ points: [OTLPNumberDataPoint], to out: inout DebugTextBuffer) {
        for (index, point) in points.enumerated() {
            writePointHeader(
                "NumberDataPoints #", index: index, attributes: point.attributes,
                start: point.startTimeUnixNano, time: point.timeUnixNano, to: &out
            )
            switch point.value {
            case .asInt(let value):
                out.line("Value: ", value)
            case .asDouble(let value):
                out.write("Value: ")
                out.writeFixed6(value)
                out.newline()
            case nil:
                break
            }
            writeExemplars(point.exemplars, to: &out)
        }
    }

    /// `Count`, then `Sum`, `Min` and `Max` when present.
    private static func writeCountSumMinMax(
        count: UInt64, sum: Double?, min: Double?, max: Double?, to out: inout DebugTextBuffer
    ) {
        out.line("Count: ", count)
        writeFixed6Line("Sum: ", sum, to: &out)
        writeFixed6Line("Min: ", min, to: &out)
        writeFixed6Line("Max: ", max, to: &out)
    }

    private static func writeFixed6Line(_ label: String, _ value: Double?, to out: inout DebugTextBuffer) {
        guard let value else { return }
        out.write(label)
        out.writeFixed6(value)
        out.newline()
    }

    private static func writeHistogramDataPoints(_ points: [OTLPHistogramDataPoint], to out: inout DebugTextBuffer) {
        for (index, point) in points.enumerated() {
            writePointHeader(
                "HistogramDataPoints #", index: index, attributes: point.attributes,
                start: point.startTimeUnixNano, time: point.timeUnixNano, to: &out
            )
            writeCountSumMinMax(
                count: point.count, sum: point.hasSum ? point.sum : nil, min: point.hasMin ? point.min : nil,
                max: point.hasMax ? point.max : nil, to: &out
            )
            for (boundIndex, bound) in point.explicitBounds.enumerated() {
                out.write("ExplicitBounds #")
                out.write(boundIndex)
                out.write(": ")
                out.writeFixed6(bound)
                out.newline()
            }
            for (bucketIndex, count) in point.bucketCounts.enumerated() {
                out.write("Buckets #")
                out.write(bucketIndex)
                out.line(", Count: ", count)
            }
            writeExemplars(point.exemplars, to: &out)
        }
    }

    /// Buckets as value ranges: with `factor = ln 2 × 2^-scale`, the bucket at `index` holds magnitudes in
    /// `(e^(index·factor), e^((index+1)·factor)]`. Negative buckets first, highest index first, then the zero bucket
    /// (when its count is not 0), then positive buckets.
    private static func writeExponentialHistogramDataPoints(
        _ points: [OTLPExponentialHistogramDataPoint], to out: inout DebugTextBuffer
    ) {
        for (index, point) in points.enumerated() {
            writePointHeader(
                "ExponentialHistogramDataPoints #", index: index, attributes: point.attributes,
                start: point.startTimeUnixNano, time: point.timeUnixNano, to: &out
            )
            writeCountSumMinMax(
                count: point.count, sum: point.hasSum ? point.sum : nil, min: point.hasMin ? point.min : nil,
                max: point.hasMax ? point.max : nil, to: &out
            )
            let factor = MetricsShape.exponentialFactor(scale: point.scale)
            let negative = point.negative
            for position in negative.bucketCounts.indices.reversed() {
                let bucketIndex = Double(negative.offset) + Double(position)
                out.write("Bucket [")
                out.writeFixed6(-exp((bucketIndex + 1) * factor))
                out.write(", ")
                out.writeFixed6(-exp(bucketIndex * factor))
                out.line("), Count: ", negative.bucketCounts[position])
            }
            if point.zeroCount != 0 {
                out.line("Bucket [0, 0], Count: ", point.zeroCount)
            }
            let positive = point.positive
            for (position, count) in positive.bucketCounts.enumerated() {
                let bucketIndex = Double(positive.offset) + Double(position)
                out.write("Bucket (")
                out.writeFixed6(exp(bucketIndex * factor))
                out.write(", ")
                out.writeFixed6(exp((bucketIndex + 1) * factor))
                out.line("], Count: ", count)
            }
            writeExemplars(point.exemplars, to: &out)
        }
    }

    private static func writeSummaryDataPoints(_ points: [OTLPSummaryDataPoint], to out: inout DebugTextBuffer) {
        for (index, point) in points.enumerated() {
            writePointHeader(
                "SummaryDataPoints #", index: index, attributes: point.attributes,
                start: point.startTimeUnixNano, time: point.timeUnixNano, to: &out
            )
            out.line("Count: ", point.count)
            out.write("Sum: ")
            out.writeFixed6(point.sum)
            out.newline()
            for (quantileIndex, quantile) in point.quantileValues.enumerated() {
                out.write("QuantileValue #")
                out.write(quantileIndex)
                out.write(": Quantile ")
                out.writeFixed6(quantile.quantile)
                out.write(", Value ")
                out.writeFixed6(quantile.value)
                out.newline()
            }
        }
    }

    private static func writeExemplars(_ exemplars: [OTLPExemplar], to out: inout DebugTextBuffer) {
        guard !exemplars.isEmpty else { return }
        out.line("Exemplars:")
        for (index, exemplar) in exemplars.enumerated() {
            out.line("Exemplar #", index)
            out.line("     -> Trace ID: ", id: exemplar.traceID)
            out.line("     -> Span ID: ", id: exemplar.spanID)
            out.line("     -> Timestamp: ", timestamp: exemplar.timeUnixNano)
            switch exemplar.value {
            case .asInt(let value):
                out.line("     -> Value: ", value)
            case .asDouble(let value):
                out.write("     -> Value: ")
                out.writeFixed6(value)
                out.newline()
            case nil:
                break
            }
            writeAttributes(exemplar.filteredAttributes, header: "     -> FilteredAttributes", to: &out)
        }
    }
}

// MARK: - Shared by both verbosities

/// Small facts about metrics that both formatters need.
enum MetricsShape {
    /// How many data points a metric carries (0 for a metric without data).
    static func dataPointCount(_ metric: OTLPMetric) -> Int {
        switch metric.data {
        case nil: 0
        case .gauge(let gauge): gauge.dataPoints.count
        case .sum(let sum): sum.dataPoints.count
        case .histogram(let histogram): histogram.dataPoints.count
        case .exponentialHistogram(let histogram): histogram.dataPoints.count
        case .summary(let summary): summary.dataPoints.count
        }
    }

    /// `ln 2 × 2^-scale`, as Go's `math.Ldexp(math.Ln2, -scale)`: bucket `index` of an exponential histogram spans
    /// `(e^(index·factor), e^((index+1)·factor)]`.
    static func exponentialFactor(scale: Int32) -> Double {
        Double(sign: .plus, exponent: -Int(scale), significand: 0.693_147_180_559_945_309_417_232_121_458_176_568)
    }
}
