import Foundation
import Shared
import Testing

@testable import Collector

@Suite("Configuration")
struct ConfigTests {
    private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigErrors) -> CollectorConfig {
        try load([yaml], environment: environment).config
    }

    private func load(_ yamls: [String], environment: [String: String] = [:]) throws(ConfigErrors) -> ConfigLoader.Loaded {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("collector-config-\(UUID())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (index, yaml) in yamls.enumerated() {
            let path = directory.appendingPathComponent("c\(index).yaml").path
            FileManager.default.createFile(atPath: path, contents: Data(yaml.utf8))
            paths.append(path)
        }
        return try ConfigLoader(environment: environment).load(paths: paths)
    }

    private func messages(_ yaml: String...) -> [String] {
        do {
            _ = try load(yaml)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    static let minimal = """
        receivers:
          otlp:
            protocols:
              http:
        exporters:
          debug:
        service:
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [debug]
        """

    @Test("the repository's collector.yaml is valid and says what the lab expects")
    func repositoryConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let config = try ConfigLoader(environment: [:]).load(paths: [root.appendingPathComponent("collector.yaml").path]).config
        #expect(Set(config.service.pipelines.keys.map(\.description)) == ["traces", "metrics", "logs"])
        guard case .otlpReceiver(let otlp)? = config.receivers[ComponentID(type: "otlp")] else {
            Issue.record("no otlp receiver")
            return
        }
        #expect(otlp.http?.endpoint == Endpoint(host: "0.0.0.0", port: 4318))
        if OTLPReceiverConfig.grpcCompiledIn {
            #expect(otlp.grpc?.endpoint == Endpoint(host: "0.0.0.0", port: 4317))
        }
        guard case .debug(let logging)? = config.exporters[ComponentID(type: "logging")] else {
            Issue.record("no logging exporter")
            return
        }
        #expect(logging.deprecatedAlias)
        #expect(logging.verbosity == .detailed)  // loglevel: debug
    }

    @Test("defaults are upstream's")
    func defaults() throws {
        let config = try load(Self.minimal + "\nprocessors:\n  batch:\n")
        guard case .otlpReceiver(let otlp)? = config.receivers[ComponentID(type: "otlp")], let http = otlp.http else {
            Issue.record("no http")
            return
        }
        #expect(http.endpoint == Endpoint(host: "localhost", port: 4318))
        #expect(http.maxRequestBodySize == 20 * 1024 * 1024)
        #expect(http.paths[.traces] == "/v1/traces")
        #expect(http.readHeaderTimeout == .seconds(60))
        #expect(http.readTimeout == nil)
        #expect(http.idleTimeout == .seconds(60))
        #expect(http.maxConcurrentConnections == 1024)
        #expect(http.authenticator == nil)
        guard case .batch(let batch)? = config.processors[ComponentID(type: "batch")] else {
            Issue.record("no batch")
            return
        }
        #expect(batch == BatchConfig(timeout: .milliseconds(200), sendBatchSize: 8192, sendBatchMaxSize: 0))
        guard case .debug(let debug)? = config.exporters[ComponentID(type: "debug")] else {
            Issue.record("no debug")
            return
        }
        #expect(debug.verbosity == .basic)
        #expect(debug.samplingInitial == 2)
        #expect(debug.samplingThereafter == 1)
    }

    #if GRPC
    @Test("protocols.grpc: upstream's defaults (localhost:4317, 4 MiB, gRPC's keepalive)")
    func grpcDefaults() throws {
        let config = try load(Self.minimal.replacingOccurrences(of: "      http:\n", with: "      grpc:\n"))
        guard case .otlpReceiver(let otlp)? = config.receivers[ComponentID(type: "otlp")], let grpc = otlp.grpc else {
            Issue.record("no grpc")
            return
        }
        #expect(otlp.http == nil)
        #expect(grpc == OTLPReceiverConfig.GRPCServerConfig())
        #expect(grpc.endpoint == Endpoint(host: "localhost", port: 4317))
        #expect(grpc.maxRecvMsgSize == 4 * 1024 * 1024)
        #expect(grpc.maxConcurrentStreams == 0)
        #expect(grpc.keepalive.time == .seconds(7200) && grpc.keepalive.timeout == .seconds(20))
        #expect(grpc.keepalive.minTime == .seconds(300) && !grpc.keepalive.permitWithoutStream)
        #expect(grpc.keepalive.maxConnectionIdle == nil && grpc.keepalive.maxConnectionAge == nil)
    }

    @Test("protocols.grpc: every served key")
    func grpcKeys() throws {
        let yaml = Self.minimal.replacingOccurrences(of: "      http:\n", with: """
                  grpc:
                    endpoint: 0.0.0.0:14317
                    transport: tcp
                    max_recv_msg_size_mib: 16
                    max_concurrent_streams: 100
                    keepalive:
                      server_parameters:
                        max_connection_idle: 11s
                        max_connection_age: 12s
                        max_connection_age_grace: 5s
                        time: 30s
                        timeout: 5s
                      enforcement_policy:
                        min_time: 10s
                        permit_without_stream: true

            """)
        let config = try load(yaml)
        guard case .otlpReceiver(let otlp)? = config.receivers[ComponentID(type: "otlp")], let grpc = otlp.grpc else {
            Issue.record("no grpc")
            return
        }
        #expect(grpc.endpoint == Endpoint(host: "0.0.0.0", port: 14317))
        #expect(grpc.maxRecvMsgSize == 16 * 1024 * 1024)
        #expect(grpc.maxConcurrentStreams == 100)
        #expect(grpc.keepalive == .init(
            maxConnectionIdle: .seconds(11), maxConnectionAge: .seconds(12), maxConnectionAgeGrace: .seconds(5), time: .seconds(30),
            timeout: .seconds(5), minTime: .seconds(10), permitWithoutStream: true))
    }

    @Test("protocols.grpc: keys not served and bad values are named", arguments: [
        ("auth:\n          authenticator: x\n", "receivers::otlp::protocols::grpc::auth: is not served by this collector yet"),
        ("include_metadata: true\n", "receivers::otlp::protocols::grpc::include_metadata: is not served by this collector yet"),
        ("read_buffer_size: 1024\n", "receivers::otlp::protocols::grpc::read_buffer_size: is not served by this collector yet"),
        ("write_buffer_size: 1024\n", "receivers::otlp::protocols::grpc::write_buffer_size: is not served by this collector yet"),
        ("transport: unix\n", "receivers::otlp::protocols::grpc::transport: transport \"unix\" is not served by this collector yet; only tcp"),
        ("max_recv_msg_size_mib: -1\n", "receivers::otlp::protocols::grpc::max_recv_msg_size_mib: cannot be negative: -1"),
        ("max_concurrent_streams: -5\n", "receivers::otlp::protocols::grpc::max_concurrent_streams: must be between 0 and 4294967295: -5"),
        ("endpoint: nowhere\n", "receivers::otlp::protocols::grpc::endpoint: invalid endpoint \"nowhere\": want host:port"),
        ("keepalive:\n          server_parameters:\n            tme: 1s\n", "receivers::otlp::protocols::grpc::keepalive::server_parameters: has invalid keys: tme"),
        ("keepalive:\n          server_parameters:\n            time: -1s\n", "receivers::otlp::protocols::grpc::keepalive::server_parameters::time: cannot be negative"),
        ("max_recv_msg_sizemib: 4\n", "receivers::otlp::protocols::grpc: has invalid keys: max_recv_msg_sizemib"),
    ])
    func grpcInvalid(_ keys: String, _ expected: String) {
        let all = messages(Self.minimal.replacingOccurrences(of: "      http:\n", with: "      http:\n      grpc:\n        " + keys))
        #expect(all.contains(expected), "\(all)")
    }
    #endif

    @Test("invalid configurations name the key path", arguments: [
        ("processors:\n  batch:\n    sendbatchsize: 10\n", "processors::batch: has invalid keys: sendbatchsize"),
        ("processors:\n  batch:\n    timeout: soon\n", "processors::batch::timeout: cannot parse \"soon\" as a duration (e.g. 200ms, 5s, 1m30s)"),
        ("processors:\n  batch:\n    send_batch_size: 100\n    send_batch_max_size: 10\n",
         "processors::batch: send_batch_max_size must be greater or equal to send_batch_size"),
        ("processors:\n  foo:\n",
         "processors: unknown type: \"foo\" for id: \"foo\" (valid values: [\(ComponentFactory.types(of: .processor).joined(separator: " "))])"),
        ("processors:\n  memory_limiter:\n", "processors::memory_limiter: 'check_interval' must be greater than zero"),
        ("processors:\n  memory_limiter:\n    check_interval: 1s\n    limit_mib: 100\n    spike_limit_mib: 200\n",
         "processors::memory_limiter: 'spike_limit_mib' must be smaller than 'limit_mib'"),
        ("exporters:\n  debug/x:\n    verbosity: loud\n", "exporters::debug/x::verbosity: unknown verbosity level \"loud\""),
        ("exporters:\n  debug/x:\n    output_paths: [stdout]\n", "exporters::debug/x: output_paths is not supported when use_internal_logger is true"),
        ("exporters:\n  logging/x:\n    loglevel: info\n    verbosity: basic\n",
         "exporters::logging/x: 'loglevel' and 'verbosity' are incompatible. Use only 'verbosity' instead"),
        ("receivers:\n  otlp/2:\n    protocols:\n      grpc:\n        tls:\n          cert_file: c.pem\n",
         OTLPReceiverConfig.grpcCompiledIn
            ? "receivers::otlp/2::protocols::grpc::tls: is not served by this collector yet"
            : "receivers::otlp/2::protocols::grpc: OTLP/gRPC is not compiled into this build (built without the GRPC trait); use protocols.http (OTLP/HTTP, port 4318)"),
        ("receivers:\n  otlp/3:\n    protocols:\n      htttp:\n", "receivers::otlp/3::protocols: has invalid keys: htttp"),
        ("receivers:\n  otlp/4:\n", "receivers::otlp/4: must specify at least one protocol when using the OTLP receiver"),
        ("receivers:\n  otlp/5:\n    protocols:\n      http:\n        endpoint: nowhere\n",
         "receivers::otlp/5::protocols::http::endpoint: invalid endpoint \"nowhere\": want host:port"),
        ("service:\n  telemetry:\n    logs:\n      level: loud\n", "service::telemetry::logs::level: unrecognized level: \"loud\""),
        ("service:\n  telemetry:\n    unknown: 1\n", "service::telemetry: has invalid keys: unknown"),
        ("extensions:\n  zpages:\n", "extensions: unknown type: \"zpages\" for id: \"zpages\" (valid values: [bearertokenauth health_check])"),
        ("extensions:\n  bearertokenauth:\n", "extensions::bearertokenauth: one of token, tokens or filename must be set"),
        ("extensions:\n  bearertokenauth/2:\n    token: a\n    filename: /t\n",
         "extensions::bearertokenauth/2: only one of token, tokens or filename may be set"),
        ("extensions:\n  bearertokenauth/3:\n    tokens: []\n", "extensions::bearertokenauth/3::tokens: must be a list of non-empty tokens"),
        ("extensions:\n  bearertokenauth/4:\n    token: a\n    header: \"X Auth\"\n",
         "extensions::bearertokenauth/4::header: invalid header name \"X Auth\""),
        ("receivers:\n  otlp/6:\n    protocols:\n      http:\n        auth:\n          request_params: [a]\n",
         "receivers::otlp/6::protocols::http::auth::authenticator: must name an authenticator extension"),
        ("receivers:\n  otlp/7:\n    protocols:\n      http:\n        idle_timeout: forever\n",
         "receivers::otlp/7::protocols::http::idle_timeout: cannot parse \"forever\" as a duration (e.g. 200ms, 5s, 1m30s)"),
        ("receivers:\n  otlp/8:\n    protocols:\n      http:\n        max_concurrent_connections: -2\n",
         "receivers::otlp/8::protocols::http::max_concurrent_connections: must be 0 (no limit) or more"),
        ("receivers:\n  otlp/9:\n    protocols:\n      http:\n        write_timeout: 1s\n",
         "receivers::otlp/9::protocols::http::write_timeout: is not served by this collector yet"),
        ("extensions:\n  health_check:\n    path: nope\n", "extensions::health_check: path must start with /"),
    ])
    func invalid(_ addition: String, _ expected: String) {
        let all = messages(Self.minimal, addition)
        #expect(all.contains(expected), "\(all)")
    }

    @Test("pipeline references are checked with upstream's wording")
    func references() {
        let yaml = """
            receivers:
              otlp:
                protocols:
                  http:
            processors:
              batch:
            exporters:
              debug:
            service:
              extensions: [health_check]
              pipelines:
                traces:
                  receivers: [otlp/2]
                  processors: [batch, batch, nope]
                  exporters: [debug]
                logs:
                  receivers: [otlp]
                  exporters: []
                spans:
                  receivers: [otlp]
                  exporters: [debug]
            """
        let all = messages(yaml)
        #expect(all.contains("service::pipelines::spans: unknown pipeline signal: \"spans\""))
        let fixed = messages(yaml.replacingOccurrences(of: "    spans:\n      receivers: [otlp]\n      exporters: [debug]", with: ""))
        #expect(fixed.contains("service::extensions: references extension \"health_check\" which is not configured"))
        #expect(fixed.contains("service::pipelines::traces: references receiver \"otlp/2\" which is not configured"))
        #expect(fixed.contains("service::pipelines::traces: references processor \"batch\" multiple times"))
        #expect(fixed.contains("service::pipelines::traces: references processor \"nope\" which is not configured"))
        #expect(fixed.contains("service::pipelines::logs: must have at least one exporter"))
    }

    @Test("whole-file problems")
    func wholeFile() {
        #expect(messages("") == ["empty configuration file"])
        #expect(messages("exporters:\n  debug:\nservice:\n  pipelines: {}\n")
            == ["no receiver configuration specified in config", "service must have at least one pipeline"])
        #expect(messages("receivers: [oops]\n").first == "receivers: expected a map, got a list")
    }

    @Test("environment expansion: ${env:X}, ${X}, defaults, $$ escapes, typed whole-value references")
    func expansion() throws {
        let yaml = """
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: ${env:HOST}:${PORT}
                    max_request_body_size: ${env:LIMIT}
                    traces_url_path: /$${env:NOT_EXPANDED}/${env:UNSET:-dflt}
            exporters:
              debug:
                verbosity: ${env:VERBOSITY:-normal}
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [debug]
            """
        let config = try load(yaml, environment: ["HOST": "127.0.0.1", "PORT": "9999", "LIMIT": "1000"])
        guard case .otlpReceiver(let otlp)? = config.receivers[ComponentID(type: "otlp")], let http = otlp.http,
              case .debug(let debug)? = config.exporters[ComponentID(type: "debug")]
        else {
            Issue.record("components missing")
            return
        }
        #expect(http.endpoint == Endpoint(host: "127.0.0.1", port: 9999))
        #expect(http.maxRequestBodySize == 1000)
        #expect(http.paths[.traces] == "/${env:NOT_EXPANDED}/dflt")
        #expect(debug.verbosity == .normal)
    }

    @Test("bad references are errors")
    func badReferences() {
        let base = Self.minimal.replacingOccurrences(of: "      http:", with: "      http:\n            endpoint: ")
        for (reference, message) in [
            ("${1X}", "environment variable \"1X\" has invalid name"),
            ("${PORT:-1}", "only ${env:NAME}, ${NAME} and ${env:NAME:-default} are served"),
            ("${file:/x}", "only ${env:NAME}"),
            ("${env:X", "unterminated reference"),
        ] {
            let all = messages(base.replacingOccurrences(of: "endpoint: ", with: "endpoint: \(reference)"))
            #expect(all.contains { $0.contains(message) }, "\(reference): \(all)")
        }
    }

    @Test("later files merge over earlier ones; lists are replaced")
    func merging() throws {
        let second = """
            exporters:
              debug:
                verbosity: detailed
              debug/2:
            service:
              pipelines:
                traces:
                  exporters: [debug/2]
            """
        let config = try load([Self.minimal, second]).config
        let traces = try #require(config.service.pipelines[PipelineID(signal: .traces)])
        #expect(traces.receivers == [ComponentID(type: "otlp")])
        #expect(traces.exporters == [ComponentID(type: "debug", name: "2")])
        guard case .debug(let debug)? = config.exporters[ComponentID(type: "debug")] else {
            Issue.record("no debug")
            return
        }
        #expect(debug.verbosity == .detailed)
    }

    @Test("component and pipeline ids", arguments: [
        ("otlp", true), ("otlp/2", true), ("debug/my-name.x", true), ("1otlp", false), ("otlp/", false), ("/x", false), ("", false),
        ("bad-type", false),
    ])
    func ids(_ text: String, _ valid: Bool) {
        #expect(((try? ComponentID(parsing: text)) != nil) == valid)
    }

    @Test("unset variables are reported")
    func unset() throws {
        let loaded = try load([Self.minimal.replacingOccurrences(of: "  debug:", with: "  debug:\n    verbosity: ${env:NOPE}")])
        #expect(loaded.unsetVariables == ["NOPE"])
    }
}

@Suite("Receiver limits and authentication settings")
struct ReceiverSettingsTests {
    private func http(_ yaml: String) throws -> OTLPReceiverConfig.HTTPServerConfig? {
        let root = try ConfigValue.parse(yaml: yaml)
        var reader = ConfigReader(root, path: [])
        let config = OTLPReceiverConfig.decode(&reader)
        #expect(reader.finishErrors().isEmpty, "\(reader.finishErrors())")
        return config.http
    }

    @Test("timeouts and the connection limit are read; 0 means none")
    func limits() throws {
        let config = try http("""
            protocols:
              http:
                read_header_timeout: 5s
                read_timeout: 0
                idle_timeout: 1m30s
                max_concurrent_connections: 0
                auth:
                  authenticator: bearertokenauth/clients
            """)
        #expect(config?.readHeaderTimeout == .seconds(5))
        #expect(config?.readTimeout == nil)
        #expect(config?.idleTimeout == .seconds(90))
        #expect(config?.maxConcurrentConnections == nil)
        #expect(config?.authenticator == ComponentID(type: "bearertokenauth", name: "clients"))
    }
}

@Suite("Configuration environment")
struct ConfigEnvironmentTests {
    @Test func processEnvironmentIsReadWhenReferenced() throws {
        let name = "COLLECTOR_CONFIG_TEST_\(UInt32.random(in: 0...UInt32.max))"
        setenv(name, "verbose", 1)
        defer { unsetenv(name) }
        #expect(ConfigEnvironment.process.value(name) == "verbose")
        #expect(ConfigEnvironment.process.value(name + "_UNSET") == nil)
        var expansion = EnvironmentExpansion(environment: .process)
        let value = try expansion.expand(.scalar("level ${env:\(name)} ${env:\(name)_UNSET:-x}", quoted: false))
        #expect(value == .scalar("level verbose x", quoted: false))
        #expect(expansion.unsetVariables.isEmpty)
    }
}
