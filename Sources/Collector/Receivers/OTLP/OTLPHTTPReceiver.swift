import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Shared

/// The OTLP/HTTP receiver: one server per receiver id, serving `POST` on the path of each signal that
/// has a pipeline (reference §1). Checks run in this order, each with its own answer:
/// path (404) → method (405) → `Content-Type` (415) → `Content-Encoding` (400) → size (413, before
/// reading past the limit and again after decompression) → decode (400) → pipeline (503/500).
/// A request without items is answered 200 without calling the pipeline, as upstream does.
struct OTLPHTTPReceiver: Service {
    let id: ComponentID
    let config: OTLPReceiverConfig.HTTPServerConfig
    let routes: [String: SignalRoute]
    let logger: Logger
    /// Called with the bound address once the server listens.
    let onListening: @Sendable (String) async -> Void

    /// The handler of one signal's path: decode, hand to the pipeline, answer.
    struct SignalRoute: Sendable {
        /// Memory limiters of the pipelines behind this path: while one refuses, bodies are not even read.
        var limiters: [MemoryLimiter] = []
        let handle: @Sendable (ByteBuffer, OTLPEncoding, ContentEncoding, Int) async -> Response

        /// The limiter refusing now, if any.
        var refusingLimiter: MemoryLimiter? { limiters.first { $0.isRefusing } }

        static func make<P: SignalPayload>(
            _ type: P.Type, consumer: any Consumer<P>, limiters: [MemoryLimiter] = [], logger: Logger,
            metrics: ReceiverMetrics? = nil
        ) -> SignalRoute {
            // The success answer never changes: encode it once per encoding, not per request.
            let success: [OTLPEncoding: Response] = [
                .protobuf: OTLPHTTPResponses.success(P.self, encoding: .protobuf),
                .json: OTLPHTTPResponses.success(P.self, encoding: .json),
            ]
            return SignalRoute(limiters: limiters) { body, encoding, compression, limit in
                let request: P
                do throws(OTLPHTTPIngestError) {
                    request = try OTLPHTTPIngest.decode(P.self, body: body, encoding: encoding, compression: compression, limit: limit)
                } catch {
                    logger.debug("Rejected a request", metadata: ["error": "\(error)"])
                    return OTLPHTTPResponses.rejected(error, encoding: encoding)
                }
                let items = request.itemCount
                guard items > 0 else { return success[encoding]! }
                do {
                    try await consumer.consume(request)
                    metrics?.accepted.increment(by: items)
                } catch ConsumerError.permanent(let message) {
                    metrics?.refused.increment(by: items)
                    return OTLPHTTPResponses.status(.internalServerError, code: .internal, message: message, encoding: encoding)
                } catch ConsumerError.refused(let message, let retryAfter) {
                    metrics?.refused.increment(by: items)
                    return OTLPHTTPResponses.status(
                        .serviceUnavailable, code: .unavailable, message: message, encoding: encoding,
                        retryAfterSeconds: max(1, retryAfter.components.seconds))
                } catch {
                    // Upstream maps any other error to UNAVAILABLE: retryable.
                    metrics?.refused.increment(by: items)
                    return OTLPHTTPResponses.status(
                        .serviceUnavailable, code: .unavailable, message: "\(error)", encoding: encoding, retryAfterSeconds: 1)
                }
                return success[encoding]!
            }
        }
    }

    func run() async throws {
        let responder = Responder(routes: routes, maxBodySize: config.maxRequestBodySize)
        var serverLogger = logger
        serverLogger.logLevel = .warning  // Hummingbird's own lines are not in upstream's shape
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(config.endpoint.host, port: config.endpoint.port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress.map { address -> String in
                    let host = address.ipAddress ?? config.endpoint.host
                    let port = address.port ?? config.endpoint.port
                    return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                } ?? config.endpoint.description
                logger.info("Starting HTTP server", metadata: ["endpoint": "\(bound)", "kind": "receiver", "name": "\(id)"])
                await onListening(bound)
            },
            logger: serverLogger
        )
        try await app.run()
    }

    /// The request pipeline in front of the signal handlers.
    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let routes: [String: SignalRoute]
        let maxBodySize: Int

        func respond(to request: Request, context: Context) async throws -> Response {
            guard let route = routes[request.uri.path] else { return OTLPHTTPResponses.notFound }
            guard request.method == .post else { return OTLPHTTPResponses.methodNotAllowed }
            let encoding: OTLPEncoding
            let compression: ContentEncoding
            do {
                (encoding, compression) = try OTLPHTTPIngest.negotiate(
                    contentType: request.headers[.contentType], contentEncoding: request.headers[.contentEncoding])
            } catch .unsupportedContentEncoding(let value) {
                // The media type was fine (it is checked first), so the error body can use it.
                let encoding = OTLPEncoding(contentType: request.headers[.contentType]) ?? .json
                return OTLPHTTPResponses.rejected(.unsupportedContentEncoding(value), encoding: encoding)
            } catch {
                return OTLPHTTPResponses.unsupportedMediaType
            }
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodySize {
                return OTLPHTTPResponses.rejected(.tooLarge(limit: maxBodySize), encoding: encoding)
            }
            if let limiter = route.refusingLimiter {
                // Refused before the body is read: under memory pressure nothing more is allocated.
                return OTLPHTTPResponses.status(
                    .serviceUnavailable, code: .unavailable, message: "data refused due to high memory usage", encoding: encoding,
                    retryAfterSeconds: max(1, limiter.retryAfter.components.seconds))
            }
            let raw: ByteBuffer
            do {
                raw = try await request.body.collect(upTo: maxBodySize)
            } catch is NIOTooManyBytesError {
                return OTLPHTTPResponses.rejected(.tooLarge(limit: maxBodySize), encoding: encoding)
            } catch {
                return OTLPHTTPResponses.rejected(.invalidBody("failed to read request body: \(error)"), encoding: encoding)
            }
            let held = raw.readableBytes
            for limiter in route.limiters { limiter.hold(held) }
            defer { for limiter in route.limiters { limiter.release(held) } }
            return await route.handle(raw, encoding, compression, maxBodySize)
        }
    }
}
