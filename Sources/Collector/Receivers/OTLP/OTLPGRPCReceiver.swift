import CoreMetrics
#if GRPC
import GRPCCore
import GRPCNIOTransportHTTP2TransportServices
import GRPCProtobuf
import Logging
import NIOCore
import OTLPGRPC
import ServiceLifecycle
import Shared
import SwiftProtobuf

/// The OTLP/gRPC receiver: one HTTP/2 server per receiver id serving the Export method of each signal that
/// has a pipeline (`opentelemetry.proto.collector.{trace,metrics,logs}.v1.*Service/Export`, reference §1.12),
/// handing requests to the same pipeline entry points as the HTTP receiver.
///
/// Status codes, as upstream's: a message over `max_recv_msg_size_mib` (before or after gzip) →
/// RESOURCE_EXHAUSTED (before the handler runs); malformed protobuf or an id of the wrong
/// length → INVALID_ARGUMENT; a retryable refusal (`memory_limiter`) → UNAVAILABLE with a `RetryInfo` detail;
/// a permanent pipeline failure → INTERNAL. A request without items is answered without calling the pipeline.
/// Success is an empty `partial_success`.
struct OTLPGRPCReceiver: Service {
    let id: ComponentID
    let config: OTLPReceiverConfig.GRPCServerConfig
    var traces: Handler<OTLPTracesRequest>?
    var metrics: Handler<OTLPMetricsRequest>?
    var logs: Handler<OTLPLogsRequest>?
    let logger: Logger
    /// Called with the bound address once the server listens.
    let onListening: @Sendable (String) async -> Void

    /// One signal's entry: the pipelines' fan-out and their memory limiters.
    struct Handler<P: SignalPayload>: Sendable {
        let consumer: any Consumer<PipelineData<P>>
        var limiters: [MemoryLimiter] = []
        let logger: Logger
        /// `otelcol_receiver_{accepted,refused}_*` with `transport="grpc"`.
        var metrics: ReceiverMetrics? = nil

        /// `request` was validated and counted by `WireDeserializer` (malformed bytes and bad ids never get here).
        func export(_ request: PipelineData<P>) async throws -> P.Response {
            let items = request.itemCount
            guard items > 0 else { return P.successResponse }
            if let limiter = limiters.first(where: { $0.isRefusing }) {
                metrics?.refused.increment(by: items)
                throw Self.unavailable("data refused due to high memory usage", retryAfter: limiter.retryAfter)
            }
            do {
                try await consumer.consume(request)
                metrics?.accepted.increment(by: items)
            } catch ConsumerError.permanent(let message) {
                metrics?.refused.increment(by: items)
                throw RPCError(code: .internalError, message: message)
            } catch ConsumerError.refused(let message, let retryAfter) {
                metrics?.refused.increment(by: items)
                throw Self.unavailable(message, retryAfter: retryAfter)
            } catch {
                // Upstream maps any other error to UNAVAILABLE: retryable.
                metrics?.refused.increment(by: items)
                throw Self.unavailable("\(error)", retryAfter: nil)
            }
            return P.successResponse
        }

        /// UNAVAILABLE, with a `google.rpc.RetryInfo` detail in `grpc-status-details-bin` when a delay is known
        /// (what OpenTelemetry SDKs read to pace their retries).
        static func unavailable(_ message: String, retryAfter: Duration?) -> RPCError {
            var metadata: Metadata = [:]
            if let retryAfter {
                let status = RPCStatus(code: .unavailable, message: message, retryAfterSeconds: max(1, retryAfter.components.seconds))
                if let bytes: [UInt8] = try? status.serializedBytes() {
                    metadata.addBinary(bytes, forKey: "grpc-status-details-bin")
                }
            }
            return RPCError(code: .unavailable, message: message, metadata: metadata)
        }
    }

    /// One signal's Export method. Requests are not decoded: `WireDeserializer` validates and counts the bytes,
    /// which then travel the pipeline as they came (`PipelineData`), as on the HTTP path.
    struct SignalService<P: SignalPayload>: RegistrableRPCService {
        let method: MethodDescriptor
        let handler: Handler<P>
        let limit: Int

        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(
                forMethod: method, deserializer: WireDeserializer<P>(limit: limit, logger: handler.logger),
                serializer: ProtobufSerializer<P.Response>(),
                handler: { stream, context in
                    let request = try await ServerRequest(stream: stream)
                    return StreamingServerResponse(single: ServerResponse(message: try await handler.export(request.message), metadata: [:]))
                })
        }
    }

    var services: [any RegistrableRPCService] {
        var services: [any RegistrableRPCService] = []
        let limit = config.maxRecvMsgSize
        if let traces { services.append(SignalService(method: OTLPTraceService.Method.Export.descriptor, handler: traces, limit: limit)) }
        if let metrics {
            services.append(SignalService(method: OTLPMetricsService.Method.Export.descriptor, handler: metrics, limit: limit))
        }
        if let logs { services.append(SignalService(method: OTLPLogsService.Method.Export.descriptor, handler: logs, limit: limit)) }
        return services
    }

    /// The transport's settings from the receiver's keys.
    var transportConfig: HTTP2ServerTransport.Custom<PlaintextGRPCListener>.Config {
        var transport = HTTP2ServerTransport.Custom<PlaintextGRPCListener>.Config.defaults
        // The transport's own limit resets the stream while the client is still sending, which clients report as
        // CANCELLED; so it is set well above ours, and `WireDeserializer` answers RESOURCE_EXHAUSTED
        // once the whole message (after decompression) is in. Beyond 4 times the limit the transport cuts it off.
        transport.rpc.maxRequestPayloadSize = 4 * config.maxRecvMsgSize
        transport.compression.enabledAlgorithms = [.gzip, .deflate]
        transport.http2.maxConcurrentStreams = config.maxConcurrentStreams > 0 ? config.maxConcurrentStreams : nil
        let keepalive = config.keepalive
        transport.connection.maxIdleTime = keepalive.maxConnectionIdle
        transport.connection.maxAge = keepalive.maxConnectionAge
        transport.connection.maxGraceTime = keepalive.maxConnectionAgeGrace
        transport.connection.keepalive.time = keepalive.time
        transport.connection.keepalive.timeout = keepalive.timeout
        transport.connection.keepalive.clientBehavior.minPingIntervalWithoutCalls = keepalive.minTime
        transport.connection.keepalive.clientBehavior.allowWithoutCalls = keepalive.permitWithoutStream
        return transport
    }

    func run() async throws {
        let address = try Self.socketAddress(config.endpoint)
        let transport = HTTP2ServerTransport.Custom(listenerFactory: PlaintextGRPCListener(address: address), config: transportConfig)
        let server = GRPCServer(transport: transport, services: services)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Graceful shutdown: stop accepting, let RPCs in flight finish, then return.
                try await withGracefulShutdownHandler {
                    try await server.serve()
                } onGracefulShutdown: {
                    server.beginGracefulShutdown()
                }
            }
            group.addTask {
                let bound = await server.transport.listeningAddress
                let text: String
                if let ipv4 = bound?.ipv4 {
                    text = "\(ipv4.host):\(ipv4.port)"
                } else if let ipv6 = bound?.ipv6 {
                    text = "[\(ipv6.host)]:\(ipv6.port)"
                } else {
                    text = config.endpoint.description
                }
                logger.info("Starting GRPC server", metadata: ["endpoint": "\(text)", "kind": "receiver", "name": "\(id)"])
                await onListening(text)
            }
            try await group.waitForAll()
        }
    }

    /// `max_recv_msg_size_mib`, checked on the received (decompressed) message, as Go's gRPC server does:
    /// RESOURCE_EXHAUSTED with its wording. Then the bytes are validated and counted without decoding
    /// (`OTLPWireScanner`): malformed protobuf or an id of the wrong length is INVALID_ARGUMENT.
    struct WireDeserializer<P: SignalPayload>: MessageDeserializer {
        let limit: Int
        let logger: Logger

        func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> PipelineData<P> {
            let size = serializedMessageBytes.count
            guard size <= limit else {
                throw RPCError(code: .resourceExhausted, message: "grpc: received message larger than max (\(size) vs. \(limit))")
            }
            let bytes = serializedMessageBytes.withUnsafeBytes { ByteBuffer(bytes: $0) }
            do {
                return PipelineData(wire: bytes, counts: try OTLPHTTPIngest.scan(P.self, bytes))
            } catch {
                logger.debug("Rejected a request", metadata: ["error": "\(error)", "transport": "grpc"])
                throw RPCError(code: .invalidArgument, message: error.description)
            }
        }
    }

    /// The transport binds IP addresses only: `localhost` and other names are resolved first.
    static func socketAddress(_ endpoint: Endpoint) throws -> GRPCNIOTransportCore.SocketAddress {
        let host = endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host
        let resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(host, port: endpoint.port)
        switch resolved {
        case .v6:
            return .ipv6(host: resolved.ipAddress ?? host, port: endpoint.port)
        default:
            return .ipv4(host: resolved.ipAddress ?? host, port: endpoint.port)
        }
    }
}
#endif
