#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Shared
import Synchronization

/// One of the collector's HTTP endpoints (the OTLP/HTTP receiver, `health_check`, the metrics reader): a request in,
/// a response out.
protocol HTTPEndpoint: Sendable {
    func respond(to request: Request) async throws -> Response
}

/// An `HTTPEndpoint` served over HTTP/1.1 by HummingbirdCore's server, as a service (graceful shutdown: stop
/// accepting, finish the requests in flight). What Hummingbird's `Application` adds and the collector uses is here:
/// a `Date` header, and a 500 for an error the endpoint throws. `Application` itself is not used: its module
/// (URL-encoded form coding with `DateFormatter`) links all of Foundation and ICU into the executable, 1.8 MiB of
/// resident memory and ~3 ms of start-up at idle (BENCHMARKS.md, "Start-up and resident memory").
struct HTTPServerService<Endpoint: HTTPEndpoint>: Service {
    let endpoint: Endpoint
    var http1 = HTTP1Channel.Configuration()
    let configuration: ServerConfiguration
    /// Called with the listening channel once the server is bound.
    let onServerRunning: @Sendable (any Channel) async -> Void
    /// The server's own log lines (bind failures, connection errors).
    let logger: Logger

    func run() async throws {
        let endpoint = endpoint
        let logger = logger
        let dateHeader = HTTPDateHeader()
        let server = Server(
            childChannelSetup: HTTP1Channel(
                responder: { request, writer, _ in
                    var response: Response
                    do {
                        response = try await endpoint.respond(to: request)
                    } catch let error as HTTPParserError {
                        throw error  // the channel answers a parse error itself
                    } catch {
                        logger.debug("Unrecognised error", metadata: ["error": "\(error)"])
                        response = Response(status: .internalServerError)
                    }
                    response.headers[.date] = dateHeader.text()
                    do {
                        try await writer.write(response: response.head, body: response.body)
                    } catch is HTTPParserError {
                        // The parser error itself would make the channel write a second response (a 400); any
                        // other error closes the connection.
                        throw ParseErrorWhileWritingResponse()
                    }
                },
                configuration: http1),
            configuration: configuration,
            onServerRunning: onServerRunning,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger)
        try await server.run()
    }
}

private struct ParseErrorWhileWritingResponse: Error {}

/// The `Date` header's text (`HTTPDate.format`), made once a second rather than once a response, as Hummingbird's
/// `DateCache` does.
final class HTTPDateHeader: Sendable {
    private let current = Mutex<(second: Int, text: String)>((second: .min, text: ""))

    func text(at date: Date = Date()) -> String {
        let second = Int(date.timeIntervalSince1970.rounded(.down))
        return current.withLock { current in
            if current.second != second { current = (second, HTTPDate.format(date)) }
            return current.text
        }
    }
}
