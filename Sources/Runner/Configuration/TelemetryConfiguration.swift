import Foundation
import Shared

/// Where and how one signal is exported, over OTLP/HTTP or OTLP/gRPC.
struct OTLPExporterConfiguration: Sendable, Equatable {
    /// The full URL POSTed to (`http://localhost:4318/v1/traces`); with gRPC the endpoint (`http://localhost:4317`).
    var url: String
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default) or `http/json`.
    var encoding: OTLPEncoding = .protobuf
    /// `OTEL_EXPORTER_OTLP_HEADERS`: sent with every request.
    var headers: [Header] = []
    /// `OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or none (default).
    var compression: ContentEncoding = .identity
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` (default 10 s): one HTTP attempt or gRPC call; 0 = no limit.
    var timeout: Duration = .seconds(10)
    /// `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`: unary `Export` calls instead of POSTs (`encoding` is then protobuf).
    var grpc = false
    /// `OTEL_EXPORTER_OTLP_INSECURE` (default false): plaintext gRPC to an endpoint written without a scheme.
    var insecure = false

    struct Header: Sendable, Equatable {
        var name: String
        var value: String
    }
}

/// A batching processor's limits (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for log records).
struct BatchSettings: Sendable, Equatable {
    var scheduleDelay: Duration
    /// The whole export of a batch, retries included; also the bound on the final flush.
    var exportTimeout: Duration
    var maxQueueSize: Int
    var maxExportBatchSize: Int
    /// Batches exported at once (not an `OTEL_*` setting): two, so that the next batch travels while one waits for the
    /// collector's answer; with one, a job on one core spent a third of its time waiting for the exporter.
    var maxConcurrentExports = 1

    static let spans = BatchSettings(
        scheduleDelay: .milliseconds(5000), exportTimeout: .milliseconds(30000), maxQueueSize: 2048, maxExportBatchSize: 512, maxConcurrentExports: 2)
    static let logs = BatchSettings(
        scheduleDelay: .milliseconds(1000), exportTimeout: .milliseconds(30000), maxQueueSize: 2048, maxExportBatchSize: 512, maxConcurrentExports: 2)
}

/// What the runner exports, to where, under which resource. Malformed `OTEL_*` values were warned
/// about and replaced by their defaults, as the OTel spec asks.
struct TelemetryConfiguration: Sendable {
    var serviceName = "batch-inference-service"
    /// Resource attributes in order, `service.name` first.
    var resourceAttributes: [(String, String)] = []
    /// nil = that signal is not exported (`OTEL_*_EXPORTER=none`, `OTEL_SDK_DISABLED`, `ENABLE_TELEMETRY=false`).
    var traces: OTLPExporterConfiguration?
    var metrics: OTLPExporterConfiguration?
    var logs: OTLPExporterConfiguration?
    var spanBatch = BatchSettings.spans
    var logBatch = BatchSettings.logs
    /// `OTEL_METRIC_EXPORT_INTERVAL` (default 60 s).
    var metricExportInterval = Duration.milliseconds(60000)
    /// `OTEL_METRIC_EXPORT_TIMEOUT` (default 30 s).
    var metricExportTimeout = Duration.milliseconds(30000)
    /// A human hint about the endpoint (port 4317 is gRPC), logged at warning.
    var endpointHint: String?

    var isEnabled: Bool { traces != nil || metrics != nil || logs != nil }
    /// The base endpoint for messages (`Connected to OTLP collector`).
    var endpointDescription = "http://localhost:4318"
}

// MARK: - Reading from the environment

extension TelemetryConfiguration {
    /// Applies the OTel SDK variables (<https://opentelemetry.io/docs/specs/otel/protocol/exporter/>).
    init(environment env: inout EnvironmentReader) {
        self.init()
        serviceName = env.string("OTEL_SERVICE_NAME") ?? serviceName
        resourceAttributes = Self.resource(env: &env, serviceName: &serviceName)

        let disabled = env.bool("OTEL_SDK_DISABLED", default: false) || !env.bool("ENABLE_TELEMETRY", default: true)
        spanBatch = Self.batch(env: &env, prefix: "OTEL_BSP_", defaults: .spans)
        logBatch = Self.batch(env: &env, prefix: "OTEL_BLRP_", defaults: .logs)
        metricExportInterval = env.milliseconds("OTEL_METRIC_EXPORT_INTERVAL", default: 60000)
        if metricExportInterval == .zero {
            env.warn("OTEL_METRIC_EXPORT_INTERVAL", "0", expected: "a positive interval", using: "60000")
            metricExportInterval = .milliseconds(60000)
        }
        metricExportTimeout = env.milliseconds("OTEL_METRIC_EXPORT_TIMEOUT", default: 30000)
        guard !disabled else { return }

        let base = env.string("OTEL_EXPORTER_OTLP_ENDPOINT")
        endpointDescription = base ?? (Self.grpcCompiledIn && env.string("OTEL_EXPORTER_OTLP_PROTOCOL")?.lowercased() == "grpc"
            ? "http://localhost:4317" : "http://localhost:4318")
        for signal in Signal.allCases {
            let upper = signal.rawValue.uppercased()
            let exporterKey = "OTEL_\(upper)_EXPORTER"
            switch env.choice(exporterKey, allowed: ["otlp", "none", "console", "logging"]) {
            case "none": continue
            case "console", "logging":
                env.warn("\(exporterKey)=\(env.string(exporterKey)!) is not supported by the runner; exporting with otlp")
            default: break
            }
            let config = Self.exporter(env: &env, signal: signal, base: base)
            switch signal {
            case .traces: traces = config
            case .metrics: metrics = config
            case .logs: logs = config
            }
        }
        let exporters = [traces, metrics, logs].compactMap { $0 }
        if let http = exporters.first(where: { !$0.grpc }), let components = URLComponents(string: http.url), components.port == 4317 {
            endpointHint = Self.grpcCompiledIn
                ? "the endpoint \(http.url) uses port 4317, the OTLP/gRPC port, with OTLP/HTTP (served on 4318); set OTEL_EXPORTER_OTLP_PROTOCOL=grpc"
                : "the endpoint \(http.url) uses port 4317, the OTLP/gRPC port; this runner was built without gRPC and speaks OTLP/HTTP, served on 4318"
        }
    }

    /// `service.name` (from `OTEL_SERVICE_NAME`, which wins), the Kubernetes downward-API variables and
    /// `APP_ENV`, under `OTEL_RESOURCE_ATTRIBUTES`, which may override all but `service.name` when
    /// `OTEL_SERVICE_NAME` is set.
    private static func resource(env: inout EnvironmentReader, serviceName: inout String) -> [(String, String)] {
        var attributes: [(String, String)] = []
        func set(_ key: String, _ value: String) {
            if let index = attributes.firstIndex(where: { $0.0 == key }) {
                attributes[index].1 = value
            } else {
                attributes.append((key, value))
            }
        }
        set("service.name", serviceName)
        let downward = [
            ("k8s.namespace.name", "K8S_NAMESPACE_NAME"), ("k8s.pod.name", "K8S_POD_NAME"), ("k8s.pod.uid", "K8S_POD_UID"),
            ("k8s.node.name", "K8S_NODE_NAME"), ("k8s.job.name", "K8S_JOB_NAME"),
        ]
        for (attribute, variable) in downward {
            if let value = env.string(variable) { set(attribute, value) }
        }
        if let value = env.string("APP_ENV") { set("deployment.environment.name", value) }
        for (key, value) in env.keyValueList("OTEL_RESOURCE_ATTRIBUTES") {
            if key == "service.name" {
                if env.string("OTEL_SERVICE_NAME") == nil {
                    serviceName = value
                    set(key, value)
                }
            } else {
                set(key, value)
            }
        }
        return attributes
    }

    private static func batch(env: inout EnvironmentReader, prefix: String, defaults: BatchSettings) -> BatchSettings {
        var settings = defaults
        settings.scheduleDelay = env.milliseconds(prefix + "SCHEDULE_DELAY", default: Int(defaults.scheduleDelay.components.seconds * 1000))
        settings.exportTimeout = env.milliseconds(prefix + "EXPORT_TIMEOUT", default: Int(defaults.exportTimeout.components.seconds * 1000))
        settings.maxQueueSize = env.integer(prefix + "MAX_QUEUE_SIZE", default: defaults.maxQueueSize, in: 1...Int(Int32.max))
        settings.maxExportBatchSize = env.integer(prefix + "MAX_EXPORT_BATCH_SIZE", default: defaults.maxExportBatchSize, in: 1...Int(Int32.max))
        if settings.maxExportBatchSize > settings.maxQueueSize {
            env.warn("\(prefix)MAX_EXPORT_BATCH_SIZE=\(settings.maxExportBatchSize) exceeds \(prefix)MAX_QUEUE_SIZE=\(settings.maxQueueSize); using the queue size")
            settings.maxExportBatchSize = settings.maxQueueSize
        }
        return settings
    }

    /// One signal's exporter: the signal-specific variable before the generic one, for every setting.
    /// Whether this build speaks OTLP/gRPC (the package's `GRPC` trait).
    static var grpcCompiledIn: Bool {
        #if GRPC
        true
        #else
        false
        #endif
    }

    private static func exporter(env: inout EnvironmentReader, signal: Signal, base: String?) -> OTLPExporterConfiguration {
        let upper = signal.rawValue.uppercased()
        let specific = "OTEL_EXPORTER_OTLP_\(upper)_"
        let generic = "OTEL_EXPORTER_OTLP_"
        let protocolKey = env.string(specific + "PROTOCOL") != nil ? specific + "PROTOCOL" : generic + "PROTOCOL"
        var encoding = OTLPEncoding.protobuf
        var grpc = false
        switch env.choice(protocolKey, allowed: ["http/protobuf", "http/json", "grpc"]) {
        case "http/json": encoding = .json
        case "grpc":
            if grpcCompiledIn {
                grpc = true
            } else {
                env.warn("\(protocolKey)=grpc: this runner was built without OTLP/gRPC (the GRPC trait); using http/protobuf")
            }
        case nil:
            // No protocol set and the endpoint on 4317, the OTLP/gRPC port (the lab's `.env` writes
            // `http://otel-collector-paid:4317` for an SDK that defaults to gRPC, as the spec allows): gRPC.
            if grpcCompiledIn, let endpoint = env.string(specific + "ENDPOINT") ?? base, URLComponents(string: endpoint)?.port == 4317 {
                grpc = true
            }
        default: break
        }
        let url: String
        if grpc {
            // gRPC names the method itself: the endpoint is used as is, nothing is appended.
            url = env.string(specific + "ENDPOINT") ?? base ?? "http://localhost:4317"
        } else if let endpoint = env.string(specific + "ENDPOINT") {
            // Used as is; only an empty path becomes "/".
            url = Self.hasPath(endpoint) ? endpoint : endpoint + "/"
        } else {
            let base = base ?? "http://localhost:4318"
            url = (base.hasSuffix("/") ? base : base + "/") + "v1/\(signal.rawValue)"
        }
        var config = OTLPExporterConfiguration(url: url, encoding: encoding)
        config.grpc = grpc
        if grpc {
            let insecureKey = env.string(specific + "INSECURE") != nil ? specific + "INSECURE" : generic + "INSECURE"
            config.insecure = env.bool(insecureKey, default: false)
            #if GRPC
            do {
                _ = try OTLPGRPCClient.parse(config.url, insecure: config.insecure)
            } catch {
                env.warn("\(error); using http://localhost:4317")
                config.url = "http://localhost:4317"
            }
            #endif
        }
        let compressionKey = env.string(specific + "COMPRESSION") != nil ? specific + "COMPRESSION" : generic + "COMPRESSION"
        if env.choice(compressionKey, allowed: ["gzip", "none"]) == "gzip" { config.compression = .gzip }
        let timeoutKey = env.string(specific + "TIMEOUT") != nil ? specific + "TIMEOUT" : generic + "TIMEOUT"
        config.timeout = env.milliseconds(timeoutKey, default: 10000)
        var headers = env.keyValueList(generic + "HEADERS")
        for (name, value) in env.keyValueList(specific + "HEADERS") {
            headers.removeAll { $0.0.lowercased() == name.lowercased() }
            headers.append((name, value))
        }
        config.headers = headers.map { OTLPExporterConfiguration.Header(name: $0.0, value: $0.1) }
        return config
    }

    private static func hasPath(_ url: String) -> Bool {
        guard let components = URLComponents(string: url) else { return true }
        return !components.path.isEmpty
    }
}
