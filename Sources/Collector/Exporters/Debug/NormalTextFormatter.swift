#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Shared

/// The debug exporter's `verbosity: normal` text: one line per resource, per scope and per item, byte for byte as
/// upstream's `normal` marshalers (`exporter/debugexporter/internal/normal/`) print it.
///
/// Attribute values print as plain text (pdata's `AsString()`), without the `Type(…)` wrapper of detailed output.
enum NormalTextFormatter {
    /// `ResourceTraces #i`, `ScopeTraces #j`, then `<name> <trace id> <span id>` and the attributes, per span.
    static func format(_ resourceSpans: [OTLPResourceSpans]) -> String {
        var spanCount = 0
        for resource in resourceSpans {
            for scope in resource.scopeSpans { spanCount += scope.spans.count }
        }
        var out = DebugTextBuffer(capacity: resourceSpans.count * 160 + spanCount * 128)
        for (resourceIndex, resource) in resourceSpans.enumerated() {
            writeResourceLine("ResourceTraces #", resourceIndex, resource.schemaURL, resource.resource, to: &out)
            for (scopeIndex, scope) in resource.scopeSpans.enumerated() {
                writeScopeLine("ScopeTraces #", scopeIndex, scope.schemaURL, scope.scope, to: &out)
                for span in scope.spans {
                    out.write(span.name)
                    out.write(" ")
                    out.writeID(span.traceID)
                    out.write(" ")
                    out.writeID(span.spanID)
                    out.writeKeyValues(span.attributes, leading: " ", separator: " ")
                    out.newline()
                }
            }
        }
        return out.text
    }

    /// `ResourceLog #i`, `ScopeLog #j`, then `<body> <attributes>` per record. The space after the body is always
    /// there (a record without attributes ends in a space), and a multi-line body spans several lines.
    static func format(_ resourceLogs: [OTLPResourceLogs]) -> String {
        var recordCount = 0
        for resource in resourceLogs {
            for scope in resource.scopeLogs { recordCount += scope.logRecords.count }
        }
        var out = DebugTextBuffer(capacity: resourceLogs.count * 160 + recordCount * 128)
        for (resourceIndex, resource) in resourceLogs.enumerated() {
            writeResourceLine("ResourceLog #", resourceIndex, resource.schemaURL, resource.resource, to: &out)
            for (scopeIndex, scope) in resource.scopeLogs.enumerated() {
                writeScopeLine("ScopeLog #", scopeIndex, scope.schemaURL, scope.scope, to: &out)
                for record in scope.logRecords {
                    out.writeValueText(record.body)
                    out.write(" ")
                    out.writeKeyValues(record.attributes, separator: " ")
                    out.newline()
                }
            }
        }
        return out.text
    }

    /// `ResourceMetrics #i`, `ScopeMetrics #j`, then one `<name>{k=v,…} <value>` line per data point; a metric
    /// without data points prints nothing.
    static func format(_ resourceMetrics: [OTLPResourceMetrics]) -> String {
        var pointCount = 0
        for resource in resourceMetrics {
            for scope in resource.scopeMetrics {
                for metric in scope.metrics { pointCount += MetricsShape.dataPointCount(metric) }
            }
        }
        var out = DebugTextBuffer(capacity: resourceMetrics.count * 160 + pointCount * 128)
        for (resourceIndex, resource) in resourceMetrics.enumerated() {
            writeResourceLine("ResourceMetrics #", resourceIndex, resource.schemaURL, resource.resource, to: &out)
            for (scopeIndex, scope) in resource.scopeMetrics.enumerated() {
                writeScopeLine("ScopeMetrics #", scopeIndex, scope.schemaURL, scope.scope, to: &out)
                for metric in scope.metrics {
                    writeMetric(metric, to: &out)
                }
            }
        }
        return out.text
    }

    // MARK: - Resource and scope lines

    /// `<title><index>`, then ` [<schema URL>]` when set and ` k=v k=v` when the resource has attributes.
    private static func writeResourceLine(
        _ title: String, _ index: Int, _ schemaURL: String, _ resource: OTLPResource, to out: inout DebugTextBuffer
    ) {
        out.write(title)
        out.write(index)
        if !schemaURL.isEmpty {
            out.write(" [")
            out.write(schemaURL)
            out.write("]")
        }
        out.writeKeyValues(resource.attributes, leading: " ", separator: " ")
        out.newline()
    }

    /// `<title><index>`, then ` <name>`, `@<version>`, ` [<schema URL>]` (each when set) and ` k=v k=v`.
    private static func writeScopeLine(
        _ title: String, _ index: Int, _ schemaURL: String, _ scope: OTLPInstrumentationScope,
        to out: inout DebugTextBuffer
    ) {
        out.write(title)
        out.write(index)
        if !scope.name.isEmpty {
            out.write(" ")
            out.write(scope.name)
        }
        if !scope.version.isEmpty {
            out.write(scope.name.isEmpty ? " @" : "@")
            out.write(scope.version)
        }
        if !schemaURL.isEmpty {
            out.write(" [")
            out.write(schemaURL)
            out.write("]")
        }
        out.writeKeyValues(scope.attributes, leading: " ", separator: " ")
        out.newline()
    }

    // MARK: - Metrics

    private static func writeMetric(_ metric: OTLPMetric, to out: inout DebugTextBuffer) {
        switch metric.data {
        case nil:
            break
        case .gauge(let gauge):
            writeNumberDataPoints(gauge.dataPoints, name: metric.name, to: &out)
        case .sum(let sum):
            writeNumberDataPoints(sum.dataPoints, name: metric.name, to: &out)
        case .histogram(let histogram):
            for point in histogram.dataPoints {
                writeLineStart(metric.name, point.attributes, to: &out)
                writeCountSumMinMax(point.count, point.hasSum ? point.sum : nil, point.hasMin ? point.min : nil,
                                    point.hasMax ? point.max : nil, to: &out)
                // One ` le<bound>=<count>` per bound; the overflow bucket (past the last bound) is a bare count.
                for (bucketIndex, count) in point.bucketCounts.enumerated() {
                    out.write(" ")
                    if bucketIndex < point.explicitBounds.count {
                        out.write("le")
                        out.writeGoFloat(point.explicitBounds[bucketIndex])
                        out.write("=")
                    }
                    out.write(count)
                }
                out.newline()
            }
        case .exponentialHistogram(let histogram):
            for point in histogram.dataPoints {
                writeLineStart(metric.name, point.attributes, to: &out)
                writeCountSumMinMax(point.count, point.hasSum ? point.sum : nil, point.hasMin ? point.min : nil,
                                    point.hasMax ? point.max : nil, to: &out)
                writeExponentialBuckets(point, to: &out)
                out.newline()
            }
        case .summary(let summary):
            for point in summary.dataPoints {
                writeLineStart(metric.name, point.attributes, to: &out)
                out.write("count=")
                out.write(point.count)
                out.write(" sum=")
                out.writeFixed6(point.sum)
                for quantile in point.quantileValues {
                    out.write(" q")
                    out.writeGoFloat(quantile.quantile)
                    out.write("=")
                    out.writeGoFloat(quantile.value)
                }
                out.newline()
            }
        }
    }

    /// `<name>{k=v,k=v} ` — attributes joined by commas without spaces, `{}` when there are none.
    private static func writeLineStart(_ name: String, _ attributes: [OTLPKeyValue], to out: inout DebugTextBuffer) {
        out.write(name)
        out.write("{")
        out.writeKeyValues(attributes, separator: ",")
        out.write("} ")
    }

    private static func writeNumberDataPoints(
        _ points: [OTLPNumberDataPoint], name: String, to out: inout DebugTextBuffer
    ) {
        for point in points {
            writeLineStart(name, point.attributes, to: &out)
            switch point.value {
            case .asInt(let value): out.write(value)
            case .asDouble(let value): out.writeGoFloat(value)
            case nil: break
            }
            out.newline()
        }
    }

    /// `count=N`, then ` sum=`, ` min=`, ` max=` (Go `%v`) when present.
    private static func writeCountSumMinMax(
        _ count: UInt64, _ sum: Double?, _ min: Double?, _ max: Double?, to out: inout DebugTextBuffer
    ) {
        out.write("count=")
        out.write(count)
        if let sum {
            out.write(" sum=")
            out.writeGoFloat(sum)
        }
        if let min {
            out.write(" min=")
            out.writeGoFloat(min)
        }
        if let max {
            out.write(" max=")
            out.writeGoFloat(max)
        }
    }

    /// Negative buckets from the highest index down as ` le<-e^(index·factor)>=n` (each bucket's upper bound), then
    /// ` zero=<count>` when not 0, then positive buckets as ` le<e^((index+1)·factor)>=n`.
    private static func writeExponentialBuckets(
        _ point: OTLPExponentialHistogramDataPoint, to out: inout DebugTextBuffer
    ) {
        let factor = MetricsShape.exponentialFactor(scale: point.scale)
        let negative = point.negative
        for position in negative.bucketCounts.indices.reversed() {
            let bucketIndex = Double(negative.offset) + Double(position)
            out.write(" le")
            out.writeGoFloat(-exp(bucketIndex * factor))
            out.write("=")
            out.write(negative.bucketCounts[position])
        }
        if point.zeroCount != 0 {
            out.write(" zero=")
            out.write(point.zeroCount)
        }
        let positive = point.positive
        for (position, count) in positive.bucketCounts.enumerated() {
            let bucketIndex = Double(positive.offset) + Double(position)
            out.write(" le")
            out.writeGoFloat(exp((bucketIndex + 1) * factor))
            out.write("=")
            out.write(count)
        }
    }
}
