import Foundation
import Testing

@testable import Collector

@Suite("service.telemetry.metrics")
struct TelemetryMetricsConfigTests {
    private static let minimal = ConfigTests.minimal + "\n"

    private func decode(_ metrics: String?) throws(ConfigErrors) -> TelemetryMetricsConfig {
        var yaml = Self.minimal
        if let metrics {
            yaml += "  telemetry:\n    metrics:\n" + metrics.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : "      " + $0 }.joined(separator: "\n")
        }
        let config: CollectorConfig
        do {
            config = try CollectorConfig.decode(try ConfigValue.parse(yaml: yaml))
        } catch let error as ConfigErrors {
            throw error
        } catch {
            throw ConfigErrors(errors: [ConfigError("\(error)")])
        }
        return config.service.metrics
    }

    private func errors(_ metrics: String) -> [String] {
        do {
            _ = try decode(metrics)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test("default: level normal, a Prometheus reader on localhost:8888, no _total, no units")
    func defaults() throws {
        let config = try decode(nil)
        #expect(config.level == .normal)
        #expect(config.reader == .init(endpoint: Endpoint(host: "localhost", port: 8888), withoutTypeSuffix: true, withoutUnits: true))
        #expect(config.isEnabled)
        #expect(try decode("level: detailed").reader?.endpoint == Endpoint(host: "localhost", port: 8888))
    }

    @Test("the legacy address form the lab uses")
    func address() throws {
        let config = try decode("address: 0.0.0.0:8888")
        #expect(config.level == .normal)
        #expect(config.reader?.endpoint == Endpoint(host: "0.0.0.0", port: 8888))
        #expect(try decode("address: :9999\nlevel: basic") == .init(level: .basic, reader: .init(endpoint: Endpoint(host: "0.0.0.0", port: 9999))))
    }

    @Test("the readers form, with the Prometheus naming switches")
    func readers() throws {
        let config = try decode("""
            level: Basic
            readers:
              - pull:
                  exporter:
                    prometheus:
                      host: 127.0.0.1
                      port: 0
                      without_type_suffix: false
                      without_units: false
                      without_scope_info: true
            """)
        #expect(config.level == .basic)
        #expect(config.reader == .init(endpoint: Endpoint(host: "127.0.0.1", port: 0), withoutTypeSuffix: false, withoutUnits: false))
        let flow = try decode("readers: [{pull: {exporter: {prometheus: {port: 9090}}}}]")
        #expect(flow.reader?.endpoint == Endpoint(host: "localhost", port: 9090))
    }

    @Test("level none serves nothing, whatever the reader")
    func none() throws {
        let config = try decode("level: none\naddress: 0.0.0.0:8888")
        #expect(config.level == TelemetryMetricsConfig.Level.none)
        #expect(config.reader == nil)
        #expect(!config.isEnabled)
        #expect(try decode("level: none\nreaders: []").isEnabled == false)
    }

    @Test(
        "invalid settings name the key",
        arguments: [
            ("level: verbose", "service::telemetry::metrics::level: unknown metrics level \"verbose\" (valid values: none, basic, normal, detailed)"),
            ("lvl: basic", "service::telemetry::metrics: has invalid keys: lvl"),
            ("address: nowhere", "service::telemetry::metrics::address: invalid address \"nowhere\": want host:port"),
            ("address: 0.0.0.0:70000", "service::telemetry::metrics::address: invalid address \"0.0.0.0:70000\": want host:port"),
            ("address: 0.0.0.0:8888\nreaders: [{pull: {exporter: {prometheus: {port: 1}}}}]",
             "service::telemetry::metrics: address and readers cannot both be set; use readers (address is upstream's deprecated form)"),
            ("readers: []", "service::telemetry::metrics::readers: collector telemetry metrics reader should exist when metric level is not none"),
            ("readers: {pull: {}}", "service::telemetry::metrics::readers: expected a list, got a map"),
            ("readers: [{pull: {exporter: {prometheus: {port: 1}}}}, {pull: {exporter: {prometheus: {port: 2}}}}]",
             "service::telemetry::metrics::readers: only one reader is served by this collector (got 2)"),
            ("readers: [{periodic: {exporter: {otlp: {}}}}]",
             "service::telemetry::metrics::readers::0::periodic: is not served by this collector yet; use pull with a prometheus exporter"),
            ("readers: [{push: {}}]", "service::telemetry::metrics::readers::0: a reader must be pull (with a prometheus exporter)"),
            ("readers: [{pull: {exporter: {otlp: {}}}}]",
             "service::telemetry::metrics::readers::0::pull::exporter::otlp: is not served by this collector yet; use prometheus"),
            ("readers: [{pull: {exporter: {prometheus: {host: 0.0.0.0}}}}]",
             "service::telemetry::metrics::readers::0::pull::exporter::prometheus::port: is required"),
            ("readers: [{pull: {exporter: {prometheus: {port: 99999}}}}]",
             "service::telemetry::metrics::readers::0::pull::exporter::prometheus::port: port 99999 is out of range (0-65535)"),
            ("readers: [{pull: {exporter: {prometheus: {port: eighty}}}}]",
             "service::telemetry::metrics::readers::0::pull::exporter::prometheus::port: cannot parse \"eighty\" as an integer"),
            ("readers: [{pull: {exporter: {prometheus: {port: 1, hots: x}}}}]",
             "service::telemetry::metrics::readers::0::pull::exporter::prometheus: has invalid keys: hots"),
            ("readers: [{pull: {exporter: {prometheus: {port: 1}}, producers: []}}]",
             "service::telemetry::metrics::readers::0::pull: has invalid keys: producers"),
            ("readers: [{pull: {exporter: {prometheus: {port: 1, without_scope_info: false}}}}]",
             "service::telemetry::metrics::readers::0::pull::exporter::prometheus::without_scope_info: only true is served by this collector (no scope labels)"),
            ("views: []", "service::telemetry::metrics::views: is not served by this collector yet"),
        ])
    func invalid(_ metrics: String, _ expected: String) {
        let all = errors(metrics)
        #expect(all.contains(expected), "\(all)")
    }

    @Test("collector.yaml serves its metrics on 0.0.0.0:8888 (the Service's metrics port)")
    func repositoryConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let config = try ConfigLoader(environment: [:]).load(paths: [root.appendingPathComponent("collector.yaml").path]).config
        #expect(config.service.metrics.isEnabled)
        #expect(config.service.metrics.level == .normal)
        #expect(config.service.metrics.reader?.endpoint == Endpoint(host: "0.0.0.0", port: 8888))
    }
}
