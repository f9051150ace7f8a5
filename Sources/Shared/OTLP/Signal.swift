/// The three OTLP signals this project carries.
package enum Signal: String, Sendable, CaseIterable, Hashable {
    case traces
    case metrics
    case logs

    /// The OTLP/HTTP default path (`/v1/traces`, …), per the OTLP specification.
    package var defaultPath: String { "/v1/\(rawValue)" }

    /// What one item of this signal is called in upstream's telemetry and log fields.
    package var itemName: String {
        switch self {
        case .traces: "spans"
        case .metrics: "metric points"
        case .logs: "log records"
        }
    }
}
