#if GRPC
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import OTLPGRPC
import Shared
import SwiftProtobuf

/// One HTTP/2 connection to an OTLP/gRPC collector, shared by the signals that export to the same endpoint:
/// unary `Export` calls of the three collector services (<https://opentelemetry.io/docs/specs/otlp/#otlpgrpc>).
/// Retries are not done here: each call is one attempt, and `OTLPExporter` decides what to retry.
final class OTLPGRPCClient: Sendable {
    let endpoint: String
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    struct EndpointError: Error, CustomStringConvertible {
        var description: String
    }

    /// `endpoint` as the OTLP exporter variables write it: `http://host:port` (plaintext), `https://host:port` (TLS
    /// with the system's trust roots), or `host:port` (TLS unless `insecure`, `OTEL_EXPORTER_OTLP_INSECURE`). A path
    /// is ignored: gRPC names the method itself. Without a port: 4317.
    init(endpoint: String, insecure: Bool) throws {
        self.endpoint = endpoint
        let (host, port, tls) = try Self.parse(endpoint, insecure: insecure)
        var config = HTTP2ClientTransport.Posix.Config.defaults
        // Responses may come compressed either way; requests are compressed per call.
        config.compression.enabledAlgorithms = [.gzip, .deflate]
        // Reconnect soon after a collector comes back (gRPC's default waits up to 2 minutes); the exporter's own
        // backoff paces the retries of a batch.
        config.backoff = .init(initial: .milliseconds(200), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: host, port: port), transportSecurity: tls ? .tls : .plaintext, config: config)
        let client = GRPCClient(transport: transport)
        self.client = client
        connections = Task { try? await client.runConnections() }
    }

    static func parse(_ endpoint: String, insecure: Bool) throws -> (host: String, port: Int, tls: Bool) {
        var rest = Substring(endpoint)
        var tls = !insecure
        if let range = rest.firstRange(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            switch scheme {
            case "http": tls = false
            case "https": tls = true
            default: throw EndpointError(description: "unsupported scheme \"\(scheme)\" in \(endpoint): want http or https")
            }
            rest = rest[range.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = String(rest)
        var port = 4317
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw EndpointError(description: "invalid port in \(endpoint)")
            }
            port = parsed
            host = String(rest[..<colon])
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw EndpointError(description: "no host in \(endpoint)") }
        return (host, port, tls)
    }

    /// One `Export` call of `P`'s service. Throws the call's `RPCError`.
    func export<P: SignalPayload>(
        _ payload: P, headers: [OTLPExporterConfiguration.Header], gzip: Bool, timeout: Duration
    ) async throws -> P.Response {
        var metadata: Metadata = [:]
        for header in headers { metadata.addString(header.value, forKey: header.name.lowercased()) }
        metadata.addString("OTel-OTLP-Exporter-Swift/batch-runner", forKey: "user-agent")
        var options = CallOptions.defaults
        options.timeout = timeout
        // A collector that is down fails the attempt at once; the exporter's backoff paces the retries.
        options.waitForReady = false
        options.compression = gzip ? .gzip : CompressionAlgorithm.none
        return try await client.unary(
            request: ClientRequest(message: payload, metadata: metadata), descriptor: Self.descriptor(for: P.signal),
            serializer: ProtobufSerializer<P>(), deserializer: ProtobufDeserializer<P.Response>(), options: options
        ) { response in
            try response.message
        }
    }

    static func descriptor(for signal: Signal) -> MethodDescriptor {
        switch signal {
        case .traces: OTLPTraceService.Method.Export.descriptor
        case .metrics: OTLPMetricsService.Method.Export.descriptor
        case .logs: OTLPLogsService.Method.Export.descriptor
        }
    }

    /// Stops the connection once calls in flight are done.
    func shutdown() async {
        client.beginGracefulShutdown()
        await connections.value
    }

    /// Whether a failed call may be retried (the OTLP/gRPC spec's list), and the delay the server asked
    /// for in a `google.rpc.RetryInfo` detail. RESOURCE_EXHAUSTED is retryable only with such a detail.
    static func classify(_ error: RPCError) -> (retryable: Bool, retryAfter: Duration?, answered: Bool) {
        var retryAfter: Duration?
        var detailed = false
        for value in error.metadata[binaryValues: "grpc-status-details-bin"] {
            detailed = true
            guard let status = try? RPCStatus(serializedBytes: value) else { continue }
            for detail in status.details {
                if let info = try? RPCRetryInfo(unpackingAny: detail), info.hasRetryDelay {
                    retryAfter = .seconds(info.retryDelay.seconds) + .nanoseconds(Int64(info.retryDelay.nanos))
                }
            }
        }
        let retryable: Bool
        switch error.code {
        case .cancelled, .deadlineExceeded, .aborted, .outOfRange, .unavailable, .dataLoss: retryable = true
        case .resourceExhausted: retryable = retryAfter != nil
        default: retryable = false
        }
        // UNAVAILABLE and DEADLINE_EXCEEDED without details may be the transport's own (no connection).
        let answered = detailed || (error.code != .unavailable && error.code != .deadlineExceeded)
        return (retryable, retryAfter, answered)
    }
}
#endif
