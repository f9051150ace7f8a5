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

/// Encoded spans or log records → `ExportTraceServiceRequest` / `ExportLogsServiceRequest` → OTLP/HTTP or OTLP/gRPC.
struct EncodedBatchExporter<Payload: SignalPayload>: BatchExporter {
    let resource: TelemetryResource
    let exporter: OTLPExporter<Payload>

    func export(_ batch: EncodedBatch, deadline: ContinuousClock.Instant) async -> ExportResult {
        await exporter.export(encoded: OTLPProtobufEncoder.request(resource: resource, items: batch), itemCount: batch.count, deadline: deadline)
    }
}

/// Drops everything without counting it as lost: the signal is switched off.
struct DiscardingExporter<Batch: ExportBatch>: BatchExporter {
    func export(_ batch: Batch, deadline: ContinuousClock.Instant) async -> ExportResult {
        ExportResult(exported: 0, dropped: 0)
    }
}

extension BatchQueue: SpanSink where Storage == EncodedItems {
    func consume(encoding body: (inout ProtobufWriter) -> Void) { append { $0.append(body) } }
}
