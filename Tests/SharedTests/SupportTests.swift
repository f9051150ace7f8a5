import Foundation
import Shared
import Testing

@Suite("Go durations")
struct GoDurationTests {
    @Test(arguments: [
        ("200ms", Duration.milliseconds(200)), ("5s", .seconds(5)), ("1m30s", .seconds(90)), ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)), ("0", .zero), ("10us", .microseconds(10)), ("10µs", .microseconds(10)), ("7ns", .nanoseconds(7)),
    ])
    func parse(_ text: String, _ expected: Duration) {
        #expect(GoDuration.parse(text) == expected)
    }

    @Test(arguments: ["", "5", "abc", "5x", "1m30", "ms"])
    func invalid(_ text: String) {
        #expect(GoDuration.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.milliseconds(200), "200ms"), (.seconds(90), "1m30s"), (.seconds(3723), "1h2m3s"), (.zero, "0s"),
        (.milliseconds(1500), "1.5s"), (.nanoseconds(7), "7ns"),
    ])
    func format(_ duration: Duration, _ expected: String) {
        #expect(GoDuration.format(duration) == expected)
    }
}

@Suite("Batch splitting")
struct SignalPayloadTests {
    private func traces(_ shape: [[Int]]) -> OTLPTracesRequest {
        var request = OTLPTracesRequest()
        var counter = 0
        for (r, scopes) in shape.enumerated() {
            var resource = OTLPResourceSpans()
            resource.schemaURL = "r\(r)"
            for (s, count) in scopes.enumerated() {
                var scope = OTLPScopeSpans()
                scope.scope.name = "s\(s)"
                for _ in 0..<count {
                    var span = OTLPSpan()
                    span.name = "span\(counter)"
                    counter += 1
                    scope.spans.append(span)
                }
                resource.scopeSpans.append(scope)
            }
            request.resourceSpans.append(resource)
        }
        return request
    }

    private func names(_ request: OTLPTracesRequest) -> [String] {
        request.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.name) } }
    }

    @Test("items are counted and split in order, resources and scopes copied where cut")
    func split() {
        var pending = traces([[2, 3], [4]])
        #expect(pending.itemCount == 9)
        #expect(pending.resourceCount == 2)
        let first = pending.removeFirst(items: 3)
        #expect(names(first) == ["span0", "span1", "span2"])
        #expect(first.resourceSpans.count == 1)
        #expect(first.resourceSpans[0].scopeSpans.map { $0.scope.name } == ["s0", "s1"])
        #expect(pending.itemCount == 6)
        #expect(pending.resourceSpans[0].schemaURL == "r0")
        #expect(pending.resourceSpans[0].scopeSpans[0].scope.name == "s1")
        let second = pending.removeFirst(items: 4)
        #expect(names(second) == ["span3", "span4", "span5", "span6"])
        #expect(second.resourceSpans.map(\.schemaURL) == ["r0", "r1"])
        #expect(names(pending) == ["span7", "span8"])
    }

    @Test("metrics split at data points, the descriptor copied into both parts")
    func metricSplit() {
        var metric = OTLPMetric()
        metric.name = "m"
        var gauge = Opentelemetry_Proto_Metrics_V1_Gauge()
        gauge.dataPoints = (0..<5).map { i in
            var point = OTLPNumberDataPoint()
            point.asInt = Int64(i)
            return point
        }
        metric.gauge = gauge
        var scope = OTLPScopeMetrics()
        scope.metrics = [metric]
        var resource = OTLPResourceMetrics()
        resource.scopeMetrics = [scope]
        var request = OTLPMetricsRequest()
        request.resourceMetrics = [resource]
        #expect(request.itemCount == 5)
        #expect(request.metricCount == 1)
        let head = request.removeFirst(items: 2)
        #expect(head.itemCount == 2)
        #expect(head.resourceMetrics[0].scopeMetrics[0].metrics[0].name == "m")
        #expect(request.itemCount == 3)
        #expect(request.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints.first?.asInt == 2)
    }
}
