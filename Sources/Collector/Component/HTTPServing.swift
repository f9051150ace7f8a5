#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

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
                    response.headers[.date] = HTTPDate.format(Date())
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

/// The `Date` header's form (RFC 9110 IMF-fixdate): `Thu, 04 Dec 2026 19:59:13 GMT`.
enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
