#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Shared

/// The `health_check` extension (reference §8.1): 200 with a JSON status once every pipeline is
/// running, 503 while starting and from the first moment of shutdown. Any method; with path `/` every
/// path answers, otherwise only the exact path (404 elsewhere).
struct HealthCheckExtension: Service {
    let id: ComponentID
    let config: HealthCheckConfig
    let state: HealthState
    let logger: Logger

    func run() async throws {
        var serverLogger = logger
        serverLogger.logLevel = .warning
        let server = HTTPServerService(
            endpoint: Responder(config: config, state: state),
            configuration: .init(address: .hostname(config.endpoint.host, port: config.endpoint.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.endpoint.port
                logger.info("Starting health_check extension", metadata: [
                    "endpoint": "\(Endpoint(host: config.endpoint.host, port: port))", "kind": "extension", "name": "\(id)",
                ])
            },
            logger: serverLogger)
        try await server.run()
    }

    struct Responder: HTTPEndpoint {
        let config: HealthCheckConfig
        let state: HealthState

        func respond(to request: Request) async throws -> Response {
            if config.path != "/" && request.uri.path != config.path {
                return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "404 page not found\n")))
            }
            return Self.response(config: config, upSince: state.upSince)
        }

        static func response(config: HealthCheckConfig, upSince: Date?, now: Date = Date()) -> Response {
            guard let upSince else {
                if let body = config.unhealthyBody {
                    return Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                                    body: .init(byteBuffer: ByteBuffer(string: body)))
                }
                return json(.serviceUnavailable, #"{"status":"Server not available","upSince":"0001-01-01T00:00:00Z","uptime":""}"#)
            }
            if let body = config.healthyBody {
                return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            let uptime = GoDuration.format(.nanoseconds(Int64(now.timeIntervalSince(upSince) * 1e9)))
            return json(.ok, #"{"status":"Server available","upSince":"\#(rfc3339(upSince))","uptime":"\#(uptime)"}"#)
        }

        private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }

        /// RFC 3339 in UTC with nanoseconds, as Go prints `time.Time` in JSON.
        static func rfc3339(_ date: Date) -> String {
            let stamp = ConsoleLogFormat.timestamp(date)  // 2024-01-15T10:32:00.600Z
            let seconds = date.timeIntervalSince1970
            let nanos = Int64(((seconds - seconds.rounded(.down)) * 1e9).rounded())
            var fraction = String(nanos)
            fraction = String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            return String(stamp.prefix(19)) + (fraction.isEmpty ? "" : "." + fraction) + "Z"
        }
    }
}
