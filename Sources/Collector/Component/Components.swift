import Shared

/// A component's decoded configuration, by kind and type.
enum ComponentConfig: Sendable, Equatable {
    case otlpReceiver(OTLPReceiverConfig)
    case batch(BatchConfig)
    case debug(DebugExporterConfig)
    case attributes(AttributesConfig)
    case healthCheck(HealthCheckConfig)
    case bearerTokenAuth(BearerTokenAuthConfig)
    case memoryLimiter(MemoryLimiterConfig)
}

/// What the collector serves: one entry per component type, like upstream's `otelcol.Factories`.
struct ComponentFactory: Sendable {
    enum Stability: String, Sendable {
        case development = "Development", alpha = "Alpha", beta = "Beta", stable = "Stable", deprecated = "Deprecated"
    }

    var kind: ComponentKind
    var type: String
    /// The upstream module this stands in for (printed by `collector components`).
    var module: String
    /// Signals the component can carry, with their stability (empty for extensions).
    var stability: [Signal: Stability]
    /// An extension's stability.
    var extensionStability: Stability? = nil
    var decode: @Sendable (inout ConfigReader) -> ComponentConfig

    static let all: [ComponentFactory] = [
        ComponentFactory(
            kind: .receiver, type: "otlp", module: "go.opentelemetry.io/collector/receiver/otlpreceiver",
            stability: [.traces: .stable, .metrics: .stable, .logs: .stable],
            decode: { .otlpReceiver(OTLPReceiverConfig.decode(&$0)) }),
        ComponentFactory(
            kind: .processor, type: "batch", module: "go.opentelemetry.io/collector/processor/batchprocessor",
            stability: [.traces: .beta, .metrics: .beta, .logs: .beta],
            decode: { .batch(BatchConfig.decode(&$0)) }),
        ComponentFactory(
            kind: .processor, type: "attributes",
            module: "github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor",
            stability: [.traces: .alpha, .metrics: .alpha, .logs: .alpha],
            decode: { .attributes(AttributesConfig.decode(&$0)) }),
        ComponentFactory(
            kind: .processor, type: "memory_limiter", module: "go.opentelemetry.io/collector/processor/memorylimiterprocessor",
            stability: [.traces: .beta, .metrics: .beta, .logs: .beta],
            decode: { .memoryLimiter(MemoryLimiterConfig.decode(&$0)) }),
        ComponentFactory(
            kind: .exporter, type: "debug", module: "go.opentelemetry.io/collector/exporter/debugexporter",
            stability: [.traces: .alpha, .metrics: .alpha, .logs: .alpha],
            decode: { .debug(DebugExporterConfig.decode(&$0, isLoggingAlias: false)) }),
        ComponentFactory(
            kind: .exporter, type: "logging", module: "go.opentelemetry.io/collector/exporter/loggingexporter",
            stability: [.traces: .deprecated, .metrics: .deprecated, .logs: .deprecated],
            decode: { .debug(DebugExporterConfig.decode(&$0, isLoggingAlias: true)) }),
        ComponentFactory(
            kind: .extension, type: "health_check",
            module: "github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension",
            stability: [:], extensionStability: .alpha,
            decode: { .healthCheck(HealthCheckConfig.decode(&$0)) }),
        ComponentFactory(
            kind: .extension, type: "bearertokenauth",
            module: "github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension",
            stability: [:], extensionStability: .beta,
            decode: { .bearerTokenAuth(BearerTokenAuthConfig.decode(&$0)) }),
    ]

    static func lookup(_ kind: ComponentKind, _ type: String) -> ComponentFactory? {
        all.first { $0.kind == kind && $0.type == type }
    }

    static func types(of kind: ComponentKind) -> [String] {
        all.filter { $0.kind == kind }.map(\.type).sorted()
    }
}
