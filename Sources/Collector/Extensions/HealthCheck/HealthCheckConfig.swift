/// `extensions: health_check:` — upstream's legacy (v1) keys and defaults (reference §8.1).
struct HealthCheckConfig: Sendable, Equatable {
    /// `endpoint`, default `localhost:13133` (in a pod: `0.0.0.0:13133`, so the kubelet can reach it).
    var endpoint = Endpoint(host: "localhost", port: 13133)
    /// `path`, default `/`, which answers on every path; any other path is matched exactly.
    var path = "/"
    /// `response_body.healthy` / `.unhealthy`: static bodies instead of the JSON status.
    var healthyBody: String?
    var unhealthyBody: String?

    static func decode(_ reader: inout ConfigReader) -> HealthCheckConfig {
        var config = HealthCheckConfig()
        if let text = reader.string("endpoint") {
            if text.isEmpty {
                reader.fail("endpoint", "http endpoint required")
            } else if let endpoint = Endpoint(parsing: text) {
                config.endpoint = endpoint
            } else {
                reader.fail("endpoint", "invalid endpoint \"\(text)\": want host:port")
            }
        }
        if let path = reader.string("path") {
            if path.hasPrefix("/") { config.path = path } else { reader.fail(nil, "path must start with /") }
        }
        if reader.keys.contains("response_body") {
            var body = reader.child("response_body")
            config.healthyBody = body.string("healthy")
            config.unhealthyBody = body.string("unhealthy")
            reader.absorb(body)
        }
        // Documented upstream as not working; accepted (and ignored) for compatibility, as recent versions do.
        _ = reader.raw("check_collector_pipeline")
        for key in ["use_v2", "tls", "cors", "auth", "http", "grpc", "component_health"] where reader.keys.contains(key) {
            _ = reader.raw(key)
            reader.fail(key, "is not served by this collector yet")
        }
        return config
    }
}
