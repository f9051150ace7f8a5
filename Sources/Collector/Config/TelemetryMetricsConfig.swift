/// `service.telemetry.metrics` — the collector's own metrics (reference §9.3).
///
/// ```yaml
/// service:
///   telemetry:
///     metrics:
///       level: normal                       # none | basic | normal (default) | detailed
///       readers:
///         - pull:
///             exporter:
///               prometheus: {host: 0.0.0.0, port: 8888}
/// ```
/// or the legacy form the lab uses, `address: 0.0.0.0:8888` (deprecated upstream in v0.111.0 and rejected
/// there since; served here as one Prometheus pull reader on that address). With neither, upstream's
/// default reader serves `localhost:8888`. `level: none` serves nothing.
struct TelemetryMetricsConfig: Sendable, Equatable {
    /// `level`: which metrics are recorded. Ordered, as upstream's `configtelemetry.Level`.
    enum Level: Int, Sendable, Comparable, CaseIterable {
        case none, basic, normal, detailed

        var name: String {
            switch self {
            case .none: "none"
            case .basic: "basic"
            case .normal: "normal"
            case .detailed: "detailed"
            }
        }

        static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// A Prometheus pull reader: `GET /metrics` on `host:port`.
    struct PrometheusReader: Sendable, Equatable {
        /// `host`, default `localhost`; `port`, required (0 picks a free port, logged).
        var endpoint = Endpoint(host: "localhost", port: 8888)
        /// `without_type_suffix`, default true (since v0.131.0): counters are named without `_total`.
        var withoutTypeSuffix = true
        /// `without_units`, default true: no unit suffix (`_seconds`, `_bytes`) on the process metrics.
        var withoutUnits = true
    }

    /// `level`, default `normal` (since v0.99.0).
    var level: Level = .normal
    /// The reader serving the metrics; nil when `level` is `none`.
    var reader: PrometheusReader? = PrometheusReader()

    /// Whether anything is served.
    var isEnabled: Bool { level > .none && reader != nil }

    static func decode(_ reader: inout ConfigReader) -> TelemetryMetricsConfig {
        var config = TelemetryMetricsConfig()
        if let text = reader.string("level") {
            if let level = Level.allCases.first(where: { $0.name == text.lowercased() }) {
                config.level = level
            } else {
                reader.fail("level", "unknown metrics level \"\(text)\" (valid values: none, basic, normal, detailed)")
            }
        }
        if reader.keys.contains("views") {
            _ = reader.raw("views")
            reader.fail("views", "is not served by this collector yet")
        }
        let hasAddress = reader.keys.contains("address")
        let hasReaders = reader.keys.contains("readers")
        if hasAddress && hasReaders {
            reader.fail(nil, "address and readers cannot both be set; use readers (address is upstream's deprecated form)")
        }
        if let text = reader.string("address") {
            if let endpoint = Endpoint(parsing: text) {
                config.reader = PrometheusReader(endpoint: endpoint)
            } else {
                reader.fail("address", "invalid address \"\(text)\": want host:port")
            }
        }
        switch reader.raw("readers") {
        case nil:
            break
        case .null?:
            config.reader = nil
            if config.level != .none {
                reader.fail("readers", "collector telemetry metrics reader should exist when metric level is not none")
            }
        case .sequence(let items)? where items.isEmpty:
            config.reader = nil
            if config.level != .none {
                reader.fail("readers", "collector telemetry metrics reader should exist when metric level is not none")
            }
        case .sequence(let items)?:
            if items.count > 1 {
                reader.fail("readers", "only one reader is served by this collector (got \(items.count))")
            }
            config.reader = decodeReader(items[0], path: reader.path + ["readers", "0"], into: &reader)
        case .scalar(let text, _)?:
            reader.fail("readers", "expected a list, got \"\(text)\"")
        case .mapping?:
            reader.fail("readers", "expected a list, got a map")
        }
        if config.level == .none { config.reader = nil }
        return config
    }

    /// One item of `readers`: `pull: {exporter: {prometheus: {...}}}`; `periodic` and other exporters
    /// are named as not served.
    private static func decodeReader(_ value: ConfigValue, path: [String], into parent: inout ConfigReader) -> PrometheusReader? {
        var item = ConfigReader(value, path: path)
        defer { parent.record(item.finishErrors()) }
        if item.keys.contains("periodic") {
            _ = item.raw("periodic")
            item.fail("periodic", "is not served by this collector yet; use pull with a prometheus exporter")
            return nil
        }
        guard item.keys.contains("pull") else {
            item.fail(nil, "a reader must be pull (with a prometheus exporter)")
            return nil
        }
        var pull = item.child("pull")
        defer { item.absorb(pull) }
        var exporter = pull.child("exporter")
        defer { pull.absorb(exporter) }
        for key in exporter.keys where key != "prometheus" {
            _ = exporter.raw(key)
            exporter.fail(key, "is not served by this collector yet; use prometheus")
        }
        guard exporter.keys.contains("prometheus") else {
            if exporter.keys.isEmpty { exporter.fail(nil, "a pull reader needs an exporter (prometheus)") }
            return nil
        }
        var prometheus = exporter.child("prometheus")
        defer { exporter.absorb(prometheus) }
        var config = PrometheusReader()
        if let host = prometheus.string("host") { config.endpoint.host = host.isEmpty ? "0.0.0.0" : host }
        if let port = prometheus.int("port") {
            if (0...65535).contains(port) {
                config.endpoint.port = port
            } else {
                prometheus.fail("port", "port \(port) is out of range (0-65535)")
            }
        } else if !prometheus.keys.contains("port") {
            prometheus.fail("port", "is required")
        }
        if let value = prometheus.bool("without_type_suffix") { config.withoutTypeSuffix = value }
        if let value = prometheus.bool("without_units") { config.withoutUnits = value }
        if prometheus.bool("without_scope_info") == false {
            prometheus.fail("without_scope_info", "only true is served by this collector (no scope labels)")
        }
        return config
    }
}
