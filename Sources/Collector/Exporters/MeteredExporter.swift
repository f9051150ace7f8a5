import CoreMetrics
import Shared

/// Counts what an exporter did with each batch, as upstream's exporterhelper does:
/// `otelcol_exporter_sent_<unit>` when it returned, `otelcol_exporter_send_failed_<unit>` when it threw
/// (the error is passed on unchanged). One increment per batch.
struct MeteredExporter<Payload: PipelinePayload>: Consumer {
    let exporter: any Consumer<Payload>
    let metrics: ExporterMetrics

    func consume(_ payload: Payload) async throws {
        do {
            try await exporter.consume(payload)
        } catch {
            metrics.sendFailed.increment(by: payload.itemCount)
            throw error
        }
        metrics.sent.increment(by: payload.itemCount)
    }
}
