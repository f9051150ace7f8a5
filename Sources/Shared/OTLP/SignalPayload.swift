/// A batchable OTLP payload: the export request of one signal, counted in upstream's items
/// (spans, metric data points, log records) and split at item granularity.
package protocol SignalPayload: OTLPRequest {
    /// Spans, metric data points or log records.
    var itemCount: Int { get }
    /// `ResourceSpans` / `ResourceMetrics` / `ResourceLogs` entries.
    var resourceCount: Int { get }
    /// `Metric` messages (the debug exporter's `"metrics"` field); 0 for traces and logs.
    var metricCount: Int { get }
    /// Appends `other`'s resources (no merging of equal resources, as upstream's batch processor).
    mutating func append(contentsOf other: Self)
    /// Removes and returns the first `count` items in order. Whole resources and scopes move when they
    /// fit; otherwise the resource and scope are copied into the returned part and items are moved.
    mutating func removeFirst(items count: Int) -> Self
}

extension SignalPayload {
    package var metricCount: Int { 0 }
}

extension OTLPTracesRequest: SignalPayload {
    package var itemCount: Int {
        resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
    }
    package var resourceCount: Int { resourceSpans.count }

    package mutating func append(contentsOf other: Self) {
        resourceSpans.append(contentsOf: other.resourceSpans)
    }

    package mutating func removeFirst(items count: Int) -> Self {
        var taken = Self()
        taken.resourceSpans = Splitter.take(
            count, from: &resourceSpans, scopes: \.scopeSpans,
            items: { $0.spans.count },
            split: { scope, n in
                var head = scope
                head.spans = Array(scope.spans.prefix(n))
                scope.spans.removeFirst(n)
                return head
            })
        return taken
    }
}

extension OTLPLogsRequest: SignalPayload {
    package var itemCount: Int {
        resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
    }
    package var resourceCount: Int { resourceLogs.count }

    package mutating func append(contentsOf other: Self) {
        resourceLogs.append(contentsOf: other.resourceLogs)
    }

    package mutating func removeFirst(items count: Int) -> Self {
        var taken = Self()
        taken.resourceLogs = Splitter.take(
            count, from: &resourceLogs, scopes: \.scopeLogs,
            items: { $0.logRecords.count },
            split: { scope, n in
                var head = scope
                head.logRecords = Array(scope.logRecords.prefix(n))
                scope.logRecords.removeFirst(n)
                return head
            })
        return taken
    }
}

extension OTLPMetricsRequest: SignalPayload {
    package var itemCount: Int {
        resourceMetrics.reduce(0) { $0 + $1.scopeMetrics.reduce(0) { $0 + $1.dataPointCount } }
    }
    package var resourceCount: Int { resourceMetrics.count }

    /// Metrics (not data points) across all resources, as the debug exporter's `"metrics"` field.
    package var metricCount: Int {
        resourceMetrics.reduce(0) { $0 + $1.scopeMetrics.reduce(0) { $0 + $1.metrics.count } }
    }

    package mutating func append(contentsOf other: Self) {
        resourceMetrics.append(contentsOf: other.resourceMetrics)
    }

    package mutating func removeFirst(items count: Int) -> Self {
        var taken = Self()
        taken.resourceMetrics = Splitter.take(
            count, from: &resourceMetrics, scopes: \.scopeMetrics,
            items: { $0.dataPointCount },
            split: { scope, n in
                // Split at data points: each metric's descriptor is copied into both parts.
                var head = scope
                head.metrics = []
                var remaining = n
                while remaining > 0, !scope.metrics.isEmpty {
                    let points = scope.metrics[0].dataPointCount
                    if points <= remaining {
                        head.metrics.append(scope.metrics.removeFirst())
                        remaining -= points
                    } else {
                        head.metrics.append(scope.metrics[0].removeFirstDataPoints(remaining))
                        remaining = 0
                    }
                }
                return head
            })
        return taken
    }
}

extension OTLPScopeMetrics {
    var dataPointCount: Int { metrics.reduce(0) { $0 + $1.dataPointCount } }
}

extension OTLPMetric {
    /// Data points of any type; a metric without data has none.
    package var dataPointCount: Int {
        switch data {
        case .gauge(let g)?: g.dataPoints.count
        case .sum(let s)?: s.dataPoints.count
        case .histogram(let h)?: h.dataPoints.count
        case .exponentialHistogram(let h)?: h.dataPoints.count
        case .summary(let s)?: s.dataPoints.count
        case nil: 0
        }
    }

    /// Removes the first `n` data points into a copy of this metric that holds only them.
    mutating func removeFirstDataPoints(_ n: Int) -> OTLPMetric {
        var head = self
        switch data {
        case .gauge(var g)?:
            var h = g
            h.dataPoints = Array(g.dataPoints.prefix(n))
            g.dataPoints.removeFirst(n)
            head.data = .gauge(h)
            data = .gauge(g)
        case .sum(var s)?:
            var h = s
            h.dataPoints = Array(s.dataPoints.prefix(n))
            s.dataPoints.removeFirst(n)
            head.data = .sum(h)
            data = .sum(s)
        case .histogram(var s)?:
            var h = s
            h.dataPoints = Array(s.dataPoints.prefix(n))
            s.dataPoints.removeFirst(n)
            head.data = .histogram(h)
            data = .histogram(s)
        case .exponentialHistogram(var s)?:
            var h = s
            h.dataPoints = Array(s.dataPoints.prefix(n))
            s.dataPoints.removeFirst(n)
            head.data = .exponentialHistogram(h)
            data = .exponentialHistogram(s)
        case .summary(var s)?:
            var h = s
            h.dataPoints = Array(s.dataPoints.prefix(n))
            s.dataPoints.removeFirst(n)
            head.data = .summary(h)
            data = .summary(s)
        case nil:
            break
        }
        return head
    }
}

/// The resource → scope → item walk shared by the three signals' `removeFirst(items:)`.
private enum Splitter {
    static func take<Resource, Scope>(
        _ count: Int,
        from resources: inout [Resource],
        scopes: WritableKeyPath<Resource, [Scope]>,
        items: (Scope) -> Int,
        split: (inout Scope, Int) -> Scope
    ) -> [Resource] {
        var taken: [Resource] = []
        var remaining = count
        while remaining > 0, !resources.isEmpty {
            let resourceItems = resources[0][keyPath: scopes].reduce(0) { $0 + items($1) }
            if resourceItems <= remaining {
                taken.append(resources.removeFirst())
                remaining -= resourceItems
                continue
            }
            // Part of this resource: copy it with the scopes (or scope parts) that fit.
            var head = resources[0]
            head[keyPath: scopes] = []
            while remaining > 0, !resources[0][keyPath: scopes].isEmpty {
                let scopeItems = items(resources[0][keyPath: scopes][0])
                if scopeItems <= remaining {
                    head[keyPath: scopes].append(resources[0][keyPath: scopes].removeFirst())
                    remaining -= scopeItems
                } else {
                    head[keyPath: scopes].append(split(&resources[0][keyPath: scopes][0], remaining))
                    remaining = 0
                }
            }
            taken.append(head)
        }
        return taken
    }
}
