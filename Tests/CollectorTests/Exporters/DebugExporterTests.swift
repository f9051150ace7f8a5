import Foundation
import Shared
import Testing

@testable import Collector

@Suite("Debug exporter framing")
struct DebugExporterTests {
    private let time = Date(timeIntervalSince1970: 1_705_314_720.6)  // 2024-01-15T10:32:00.600Z

    private func exporter(_ config: DebugExporterConfig, name: String = "debug") -> DebugExporter<OTLPTracesRequest> {
        DebugExporter(id: try! ComponentID(parsing: name), config: config, output: .memory())
    }

    @Test("basic: one summary line in the shape the lab greps for")
    func basic() throws {
        var request = makeTraces(2)
        request.resourceSpans.append(makeTraces(1).resourceSpans[0])
        let text = try exporter(DebugExporterConfig()).render(request, time: time)
        #expect(text == "2024-01-15T10:32:00.600Z\tinfo\tTracesExporter\t{\"kind\": \"exporter\", \"data_type\": \"traces\", \"name\": \"debug\", \"resource spans\": 2, \"spans\": 3}\n")
    }

    @Test("metrics and logs summaries")
    func otherSignals() throws {
        var metric = OTLPMetric()
        metric.name = "m"
        var sum = Opentelemetry_Proto_Metrics_V1_Sum()
        sum.dataPoints = [OTLPNumberDataPoint(), OTLPNumberDataPoint()]
        metric.sum = sum
        var scope = OTLPScopeMetrics()
        scope.metrics = [metric, metric]
        var resource = OTLPResourceMetrics()
        resource.scopeMetrics = [scope]
        var metrics = OTLPMetricsRequest()
        metrics.resourceMetrics = [resource]
        let metricText = try DebugExporter<OTLPMetricsRequest>(id: ComponentID(type: "debug"), config: .init(), output: .memory())
            .render(metrics, time: time)
        #expect(metricText.hasSuffix("\tinfo\tMetricsExporter\t{\"kind\": \"exporter\", \"data_type\": \"metrics\", \"name\": \"debug\", \"resource metrics\": 1, \"metrics\": 2, \"data points\": 4}\n"))

        var scopeLogs = OTLPScopeLogs()
        scopeLogs.logRecords = [OTLPLogRecord()]
        var resourceLogs = OTLPResourceLogs()
        resourceLogs.scopeLogs = [scopeLogs]
        var logs = OTLPLogsRequest()
        logs.resourceLogs = [resourceLogs]
        let logText = try DebugExporter<OTLPLogsRequest>(id: ComponentID(type: "logging"), config: .init(), output: .memory())
            .render(logs, time: time)
        #expect(logText.hasSuffix("\tinfo\tLogsExporter\t{\"kind\": \"exporter\", \"data_type\": \"logs\", \"name\": \"logging\", \"resource logs\": 1, \"log records\": 1}\n"))
    }

    @Test("normal and detailed: the dump follows as one entry, then a tab and the component fields")
    func dump() throws {
        var config = DebugExporterConfig()
        config.verbosity = .normal
        let request = makeTraces(1)
        let text = try exporter(config, name: "debug/x").render(request, time: time)
        let body = NormalTextFormatter.format(request.resourceSpans)
        #expect(!body.isEmpty)
        let fields = "{\"kind\": \"exporter\", \"data_type\": \"traces\", \"name\": \"debug/x\"}"
        let summary = "2024-01-15T10:32:00.600Z\tinfo\tTracesExporter\t{\"kind\": \"exporter\", \"data_type\": \"traces\", \"name\": \"debug/x\", \"resource spans\": 1, \"spans\": 1}\n"
        #expect(text == summary + "2024-01-15T10:32:00.600Z\tinfo\t" + body + "\t" + fields + "\n")
    }

    @Test("use_internal_logger false: no time, level or component fields; the dump then an empty line")
    func plain() throws {
        var config = DebugExporterConfig()
        config.verbosity = .detailed
        config.useInternalLogger = false
        let request = makeTraces(1)
        let text = try exporter(config).render(request, time: time)
        #expect(text == "TracesExporter\t{\"resource spans\": 1, \"spans\": 1}\n" + DetailedTextFormatter.format(request.resourceSpans) + "\n")
    }

    @Test("writes go to the configured output")
    func output() async throws {
        let output = LogOutput.memory()
        let exporter = DebugExporter<OTLPTracesRequest>(id: ComponentID(type: "debug"), config: .init(), output: output)
        try await exporter.consume(makeTraces(4))
        try await exporter.consume(makeTraces(1))
        #expect(output.captured.components(separatedBy: "\n").filter { $0.contains("TracesExporter") }.count == 2)
        #expect(output.captured.contains("\"spans\": 4}"))
    }

    @Test("sampling: the first `initial` per second, then every `thereafter`-th; default prints all")
    func sampling() {
        let now = Date(timeIntervalSince1970: 100)
        let sampler = Sampler(initial: 2, thereafter: 3)
        let admitted = (0..<11).map { _ in sampler.admit(now: now) }
        #expect(admitted == [true, true, false, false, true, false, false, true, false, false, true])
        #expect(sampler.admit(now: now.addingTimeInterval(1)))  // a new second starts over
        let all = Sampler(initial: 2, thereafter: 1)
        #expect((0..<100).allSatisfy { _ in all.admit(now: now) })
        let none = Sampler(initial: 1, thereafter: 0)
        #expect((0..<5).map { _ in none.admit(now: now) } == [true, false, false, false, false])
    }
}
