import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The Prometheus pull reader of `service.telemetry.metrics`: `GET /metrics` on its own address answers
/// the registry's text exposition (`text/plain; version=0.0.4`); other paths 404, other methods 405.
/// Started before the pipelines and stopped after them, so a last scrape sees the drained counts.
struct MetricsServer: Service {
    let endpoint: Endpoint
    let telemetry: CollectorTelemetry
    let logger: Logger
    /// Called with the bound address once the server listens.
    var onListening: @Sendable (String) async -> Void = { _ in }

    func run() async throws {
        var serverLogger = logger
        serverLogger.logLevel = .warning
        let endpoint = endpoint
        let logger = logger
        let onListening = onListening
        let server = HTTPServerService(
            endpoint: Responder(telemetry: telemetry),
            configuration: .init(address: .hostname(endpoint.host, port: endpoint.port)),
            onServerRunning: { channel in
                let bound = Endpoint(host: endpoint.host, port: channel.localAddress?.port ?? endpoint.port)
                logger.info("Serving metrics", metadata: ["address": "\(bound)", "level": "\(telemetry.level.name)"])
                await onListening(bound.description)
            },
            logger: serverLogger)
        try await server.run()
    }

    struct Responder: HTTPEndpoint {
        let telemetry: CollectorTelemetry

        func respond(to request: Request) async throws -> Response {
            guard request.uri.path == "/metrics" else {
                return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "404 page not found\n")))
            }
            guard request.method == .get || request.method == .head else {
                return Response(status: .methodNotAllowed, headers: [.contentType: "text/plain; charset=utf-8", .allow: "GET, HEAD"],
                                body: .init(byteBuffer: ByteBuffer(string: "405 method not allowed\n")))
            }
            let text = telemetry.render()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}
