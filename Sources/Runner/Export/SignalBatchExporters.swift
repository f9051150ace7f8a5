import Shared

/// The resource and scope every exported item is wrapped in.
struct TelemetryResource: Sendable {
    var resource: OTLPResource
    var scope: OTLPInstrumentationScope

    init(attributes: [(String, String)], scopeName: String = "batch-inference-runner", scopeVersion: String = "0.1.0") {
        resource = OTLPResource()
        resource.attributes = attributes.map { OTLPAttributes.string($0.0, $0.1) }
        scope = OTLPInstrumentationScope()
        scope.name = scopeName
        scope.version = scopeVersion
    }
}

/// Spans → `ExportTraceServiceRequest` → HTTP.
struct SpanBatchExporter: BatchExporter {
    let resource: TelemetryResource
    let http: OTLPHTTPExporter<OTLPTracesRequest>

    func export(_ items: [OTLPSpan], deadline: ContinuousClock.Instant) async -> ExportResult {
        var scopeSpans = OTLPScopeSpans()
        scopeSpans.scope = resource.scope
        scopeSpans.spans = items
        var resourceSpans = OTLPResourceSpans()
        resourceSpans.resource = resource.resource
        resourceSpans.scopeSpans = [scopeSpans]
        var request = OTLPTracesRequest()
        request.resourceSpans = [resourceSpans]
        return await http.export(request, itemCount: items.count, deadline: deadline)
    }
}

/// Log records → `ExportLogsServiceRequest` → HTTP.
struct LogBatchExporter: BatchExporter {
    let resource: TelemetryResource
    let http: OTLPHTTPExporter<OTLPLogsRequest>

    func export(_ items: [OTLPLogRecord], deadline: ContinuousClock.Instant) async -> ExportResult {
        var scopeLogs = OTLPScopeLogs()
        scopeLogs.scope = resource.scope
        scopeLogs.logRecords = items
        var resourceLogs = OTLPResourceLogs()
        resourceLogs.resource = resource.resource
        resourceLogs.scopeLogs = [scopeLogs]
        var request = OTLPLogsRequest()
        request.resourceLogs = [resourceLogs]
        return await http.export(request, itemCount: items.count, deadline: deadline)
    }
}

/// Drops everything without counting it as lost: the signal is switched off.
struct DiscardingExporter<Item: Sendable>: BatchExporter {
    func export(_ items: [Item], deadline: ContinuousClock.Instant) async -> ExportResult {
        ExportResult(exported: 0, dropped: 0)
    }
}

extension BatchQueue: SpanSink where Item == OTLPSpan {
    func consume(_ span: OTLPSpan) { append(span) }
}
