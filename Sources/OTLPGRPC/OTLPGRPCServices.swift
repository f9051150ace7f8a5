// Short names for the generated gRPC stubs (Generated/, from opentelemetry-proto v1.11.0 by
// scripts/generate-otlp.sh), as OTLPModel.swift does for the messages.

package typealias OTLPTraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService
package typealias OTLPMetricsService = Opentelemetry_Proto_Collector_Metrics_V1_MetricsService
package typealias OTLPLogsService = Opentelemetry_Proto_Collector_Logs_V1_LogsService
