import Shared

/// `receivers: otlp:` — upstream keys and defaults (reference §1.1–1.2, §1.12).
struct OTLPReceiverConfig: Sendable, Equatable {
    /// `protocols.http`; present (even empty or null) means enabled.
    var http: HTTPServerConfig?
    /// `protocols.grpc`; present (even empty or null) means enabled.
    var grpc: GRPCServerConfig?

    /// Whether this build serves OTLP/gRPC (the package's `GRPC` trait).
    static var grpcCompiledIn: Bool {
        #if GRPC
        true
        #else
        false
        #endif
    }

    /// `protocols.grpc`: upstream's `configgrpc.ServerConfig` keys this collector serves.
    struct GRPCServerConfig: Sendable, Equatable {
        /// `endpoint`, default `localhost:4317` (upstream's since v0.104.0; containers need `0.0.0.0:4317`).
        var endpoint = Endpoint(host: "localhost", port: 4317)
        /// `max_recv_msg_size_mib`; 0 (the default) means gRPC's own limit, 4 MiB. Larger messages are
        /// answered RESOURCE_EXHAUSTED, before and after gzip decompression.
        var maxRecvMsgSizeMiB = 0
        /// `max_concurrent_streams`: HTTP/2 streams per connection; 0 (the default) means no limit.
        var maxConcurrentStreams = 0
        /// `keepalive`.
        var keepalive = Keepalive()

        /// The message size limit in bytes.
        var maxRecvMsgSize: Int { (maxRecvMsgSizeMiB > 0 ? maxRecvMsgSizeMiB : 4) * 1024 * 1024 }

        /// `keepalive.server_parameters` and `keepalive.enforcement_policy`, with gRPC's defaults for
        /// absent or zero values, as Go's gRPC server applies them.
        struct Keepalive: Sendable, Equatable {
            /// `server_parameters.max_connection_idle`: close a connection idle this long; nil = never.
            var maxConnectionIdle: Duration?
            /// `server_parameters.max_connection_age`: close (gracefully) a connection this old; nil = never.
            var maxConnectionAge: Duration?
            /// `server_parameters.max_connection_age_grace`: then wait this long for RPCs; nil = forever.
            var maxConnectionAgeGrace: Duration?
            /// `server_parameters.time`: ping an idle connection after this long (default 2h).
            var time: Duration = .seconds(2 * 60 * 60)
            /// `server_parameters.timeout`: close it when the ping is not answered within this (default 20s).
            var timeout: Duration = .seconds(20)
            /// `enforcement_policy.min_time`: the shortest client ping interval tolerated (default 5m).
            var minTime: Duration = .seconds(5 * 60)
            /// `enforcement_policy.permit_without_stream`: allow client pings without active RPCs.
            var permitWithoutStream = false
        }
    }

    struct HTTPServerConfig: Sendable, Equatable {
        /// `endpoint`, default `localhost:4318` (upstream's since v0.104.0; containers need `0.0.0.0:4318`).
        var endpoint = Endpoint(host: "localhost", port: 4318)
        /// `max_request_body_size`, default 20 MiB; `<= 0` means the default. Applied to the raw body and
        /// again after decompression; over it → 413.
        var maxRequestBodySize = 20 * 1024 * 1024
        /// `traces_url_path`, `metrics_url_path`, `logs_url_path`.
        var paths: [Signal: String] = Dictionary(uniqueKeysWithValues: Signal.allCases.map { ($0, $0.defaultPath) })
        /// `auth.authenticator`: the id of a `bearertokenauth` extension checking every request (401 otherwise).
        var authenticator: ComponentID?
        /// `read_header_timeout`: how long a connection may take to deliver a request's headers, counted from
        /// when it opened or answered its previous request. Default 1m (confighttp's generic default; the
        /// upstream OTLP receiver sets 0, which lets a slow-loris client hold a connection forever).
        var readHeaderTimeout: Duration? = .seconds(60)
        /// `read_timeout`: the whole request, headers and body, from its first byte. Default 0 (none).
        var readTimeout: Duration?
        /// `idle_timeout`: a kept-alive connection with no request in progress is closed after this. Default 1m.
        var idleTimeout: Duration? = .seconds(60)
        /// `max_concurrent_connections` (not an upstream key): connections beyond it wait in the listen
        /// backlog until one closes. Default 1024; `0` means no limit.
        var maxConcurrentConnections: Int? = 1024
    }

    static func decode(_ reader: inout ConfigReader) -> OTLPReceiverConfig {
        var config = OTLPReceiverConfig()
        var protocols = reader.child("protocols")
        if protocols.keys.isEmpty {
            reader.fail(nil, "must specify at least one protocol when using the OTLP receiver")
        }
        if protocols.keys.contains("grpc") {
            if grpcCompiledIn {
                var grpc = protocols.child("grpc")
                config.grpc = decodeGRPC(&grpc)
                protocols.absorb(grpc)
            } else {
                _ = protocols.raw("grpc")
                protocols.fail(
                    "grpc", "OTLP/gRPC is not compiled into this build (built without the GRPC trait); use protocols.http (OTLP/HTTP, port 4318)")
            }
        }
        if protocols.keys.contains("http") {
            var http = protocols.child("http")
            config.http = decodeHTTP(&http)
            protocols.absorb(http)
        }
        reader.absorb(protocols)
        return config
    }

    private static func decodeHTTP(_ reader: inout ConfigReader) -> HTTPServerConfig {
        var config = HTTPServerConfig()
        if let text = reader.string("endpoint") {
            if let endpoint = Endpoint(parsing: text) {
                config.endpoint = endpoint
            } else {
                reader.fail("endpoint", "invalid endpoint \"\(text)\": want host:port")
            }
        }
        if let size = reader.int("max_request_body_size"), size > 0 { config.maxRequestBodySize = size }
        for signal in Signal.allCases {
            let key = "\(signal.rawValue)_url_path"
            guard let text = reader.string(key) else { continue }
            if let path = urlPath(text) {
                config.paths[signal] = path
            } else {
                reader.fail(key, "invalid HTTP URL path set for signal: \"\(text)\"")
            }
        }
        if reader.keys.contains("auth") {
            var auth = reader.child("auth")
            if let text = auth.string("authenticator") {
                do { config.authenticator = try ComponentID(parsing: text) } catch { auth.fail("authenticator", error.message) }
            } else {
                auth.fail("authenticator", "must name an authenticator extension")
            }
            if auth.keys.contains("request_params") {
                _ = auth.raw("request_params")
                auth.fail("request_params", "is not served by this collector yet")
            }
            reader.absorb(auth)
        }
        // A zero or negative duration means "no limit", as in Go's http.Server.
        func timeout(_ key: String) -> Duration?? {
            guard let value = reader.duration(key) else { return nil }
            return .some(value > .zero ? value : nil)
        }
        if let value = timeout("read_header_timeout") { config.readHeaderTimeout = value }
        if let value = timeout("read_timeout") { config.readTimeout = value }
        if let value = timeout("idle_timeout") { config.idleTimeout = value }
        if let value = reader.int("max_concurrent_connections") {
            if value < 0 {
                reader.fail("max_concurrent_connections", "must be 0 (no limit) or more")
            } else {
                config.maxConcurrentConnections = value == 0 ? nil : value
            }
        }
        for key in ["tls", "cors", "include_metadata", "compression_algorithms", "response_headers", "middlewares",
                    "write_timeout", "keep_alives_enabled", "transport"]
        where reader.keys.contains(key) {
            _ = reader.raw(key)
            reader.fail(key, "is not served by this collector yet")
        }
        return config
    }

    private static func decodeGRPC(_ reader: inout ConfigReader) -> GRPCServerConfig {
        var config = GRPCServerConfig()
        if let text = reader.string("endpoint") {
            if let endpoint = Endpoint(parsing: text) {
                config.endpoint = endpoint
            } else {
                reader.fail("endpoint", "invalid endpoint \"\(text)\": want host:port")
            }
        }
        if let transport = reader.string("transport"), transport != "tcp" {
            reader.fail("transport", "transport \"\(transport)\" is not served by this collector yet; only tcp")
        }
        if let size = reader.int("max_recv_msg_size_mib") {
            if size < 0 {
                reader.fail("max_recv_msg_size_mib", "cannot be negative: \(size)")
            } else if size > 4096 {
                reader.fail("max_recv_msg_size_mib", "\(size) MiB is more than this collector accepts (4096)")
            } else {
                config.maxRecvMsgSizeMiB = size
            }
        }
        if let streams = reader.int("max_concurrent_streams") {
            if streams < 0 || streams > Int(UInt32.max) {
                reader.fail("max_concurrent_streams", "must be between 0 and \(UInt32.max): \(streams)")
            } else {
                config.maxConcurrentStreams = streams
            }
        }
        if reader.keys.contains("keepalive") {
            var keepalive = reader.child("keepalive")
            config.keepalive = decodeKeepalive(&keepalive)
            reader.absorb(keepalive)
        }
        for key in ["tls", "auth", "include_metadata", "read_buffer_size", "write_buffer_size", "middlewares"]
        where reader.keys.contains(key) {
            _ = reader.raw(key)
            reader.fail(key, "is not served by this collector yet")
        }
        return config
    }

    private static func decodeKeepalive(_ reader: inout ConfigReader) -> GRPCServerConfig.Keepalive {
        var keepalive = GRPCServerConfig.Keepalive()
        // Go's gRPC treats zero (and absent) as "use the default"; negative durations are errors.
        func positive(_ reader: inout ConfigReader, _ key: String) -> Duration? {
            guard let value = reader.duration(key) else { return nil }
            if value < .zero { reader.fail(key, "cannot be negative") }
            return value > .zero ? value : nil
        }
        if reader.keys.contains("server_parameters") {
            var server = reader.child("server_parameters")
            keepalive.maxConnectionIdle = positive(&server, "max_connection_idle")
            keepalive.maxConnectionAge = positive(&server, "max_connection_age")
            keepalive.maxConnectionAgeGrace = positive(&server, "max_connection_age_grace")
            // Go's gRPC raises a time under 1s to 1s.
            if let time = positive(&server, "time") { keepalive.time = max(time, .seconds(1)) }
            if let timeout = positive(&server, "timeout") { keepalive.timeout = timeout }
            reader.absorb(server)
        }
        if reader.keys.contains("enforcement_policy") {
            var policy = reader.child("enforcement_policy")
            if let minTime = positive(&policy, "min_time") { keepalive.minTime = minTime }
            if let permit = policy.bool("permit_without_stream") { keepalive.permitWithoutStream = permit }
            reader.absorb(policy)
        }
        return keepalive
    }

    /// Upstream keeps only the path of a URL and adds a leading `/` when missing.
    private static func urlPath(_ text: String) -> String? {
        var path = Substring(text)
        if let scheme = path.indices.first(where: { path[$0...].hasPrefix("://") }) {
            let afterHost = path[path.index(scheme, offsetBy: 3)...]
            path = afterHost.firstIndex(of: "/").map { afterHost[$0...] } ?? "/"
        } else if path.hasPrefix(":") {
            return nil
        }
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        return path.hasPrefix("/") ? String(path) : "/" + path
    }
}

/// `host:port` as upstream's endpoints are written (`[::1]:4318` for IPv6; an empty host means all interfaces).
struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
