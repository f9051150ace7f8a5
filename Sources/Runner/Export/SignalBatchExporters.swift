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

/// Encoded spans → `ExportTraceServiceRequest` → HTTP (or gRPC).
struct SpanBatchExporter: BatchExporter {
    let resource: TelemetryResource
    let http: OTLPHTTPExporter<OTLPTracesRequest>

    func export(_ items: [EncodedSpan], deadline: ContinuousClock.Instant) async -> ExportResult {
        await http.export(encoded: OTLPProtobufEncoder.tracesRequest(resource: resource, spans: items), itemCount: items.count, deadline: deadline)
    }
}

/// Encoded log records → `ExportLogsServiceRequest` → HTTP (or gRPC).
struct LogBatchExporter: BatchExporter {
    let resource: TelemetryResource
    let http: OTLPHTTPExporter<OTLPLogsRequest>

    func export(_ items: [EncodedLogRecord], deadline: ContinuousClock.Instant) async -> ExportResult {
        await http.export(encoded: OTLPProtobufEncoder.logsRequest(resource: resource, records: items), itemCount: items.count, deadline: deadline)
    }
}

/// Drops everything without counting it as lost: the signal is switched off.
struct DiscardingExporter<Item: Sendable>: BatchExporter {
    func export(_ items: [Item], deadline: ContinuousClock.Instant) async -> ExportResult {
        ExportResult(exported: 0, dropped: 0)
    }
}

extension BatchQueue: SpanSink where Item == EncodedSpan {
    func consume(_ span: EncodedSpan) { append(span) }
}
