import CoreMetrics
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Shared

/// The OTLP/HTTP receiver: one server per receiver id, serving `POST` on the path of each signal that
/// has a pipeline (reference §1). Checks run in this order, each with its own answer:
/// authentication (401) → path (404) → method (405) → `Content-Type` (415) → `Content-Encoding` (400) →
/// size (413, before reading past the limit and again after decompression) → memory (503, before
/// reading the body) → decode (400) → pipeline (503/500).
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
        let handle: @Sendable (ByteBuffer, OTLPEncoding, ContentEncoding, Int, MemoryReservation) async -> Response

        static func make<Request: SignalPayload>(
            _ type: Request.Type, consumer: any Consumer<PipelineData<Request>>, limiters: [MemoryLimiter] = [], logger: Logger,
            metrics: ReceiverMetrics? = nil
        ) -> SignalRoute {
            typealias P = PipelineData<Request>
            // The success answer never changes: encode it once per encoding, not per request.
            let success: [OTLPEncoding: Response] = [
                .protobuf: OTLPHTTPResponses.success(Request.self, encoding: .protobuf),
                .json: OTLPHTTPResponses.success(Request.self, encoding: .json),
            ]
            return SignalRoute(limiters: limiters) { body, encoding, compression, limit, reservation in
                let request: P
                do throws(OTLPHTTPIngestError) {
                    let plain = try OTLPHTTPIngest.decompress(body, compression: compression, limit: limit)
                    // The request is held until the pipeline takes it (which waits while the batch processor
                    // is full): reserve what it adds to the body already reserved before going on, or refuse.
                    let held = MemoryReservation.addedSize(plainBytes: plain.readableBytes, encoding: encoding, compression: compression)
                    if let limiter = reservation.reserve(held) { return OTLPHTTPResponses.refused(by: limiter, encoding: encoding) }
                    switch encoding {
                    case .protobuf:
                        // Validated and counted in place; the bytes travel the pipeline undecoded.
                        request = P(wire: plain, counts: try OTLPHTTPIngest.scan(Request.self, plain))
                    case .json:
                        request = P(try OTLPHTTPIngest.decodeMessage(Request.self, from: plain, encoding: encoding))
                    }
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

    /// Checks the configured header of every request (`auth.authenticator`), before anything else.
    var authenticator: BearerTokenAuthenticator? = nil

    func run() async throws {
        let responder = Responder(routes: routes, maxBodySize: config.maxRequestBodySize, authenticator: authenticator)
        var serverLogger = logger
        serverLogger.logLevel = .warning  // Hummingbird's own lines are not in upstream's shape
        let (readHeaderTimeout, readTimeout) = (config.readHeaderTimeout, config.readTimeout)
        let server = HTTPServerService(
            endpoint: responder,
            http1: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(readHeaderTimeout: readHeaderTimeout, readTimeout: readTimeout)],
                idleTimeout: config.idleTimeout.map(TimeAmount.init)),
            configuration: .init(
                address: .hostname(config.endpoint.host, port: config.endpoint.port),
                availableConnectionsDelegate: config.maxConcurrentConnections.map { MaximumAvailableConnections($0) }),
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
        try await server.run()
    }

    /// The request pipeline in front of the signal handlers.
    struct Responder: HTTPEndpoint {
        let routes: [String: SignalRoute]
        let maxBodySize: Int
        var authenticator: BearerTokenAuthenticator?

        func respond(to request: Request) async throws -> Response {
            if let authenticator, let denied = authenticate(request, with: authenticator) { return denied }
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
            let declaredLength = request.headers[.contentLength].flatMap { Int($0) }
            if let declaredLength, declaredLength > maxBodySize {
                return OTLPHTTPResponses.rejected(.tooLarge(limit: maxBodySize), encoding: encoding)
            }
            let reservation = MemoryReservation(limiters: route.limiters)
            defer { reservation.releaseAll() }
            let refused = { (limiter: MemoryLimiter) in OTLPHTTPResponses.refused(by: limiter, encoding: encoding) }
            // Under memory pressure nothing more is read: a declared length is reserved before the first
            // byte, a chunked body chunk by chunk.
            if let declaredLength, let limiter = reservation.reserve(declaredLength) { return refused(limiter) }
            var raw = ByteBuffer()
            do {
                if declaredLength != nil {
                    raw = try await request.body.collect(upTo: maxBodySize)
                } else {
                    for try await chunk in request.body {
                        guard raw.readableBytes + chunk.readableBytes <= maxBodySize else {
                            return OTLPHTTPResponses.rejected(.tooLarge(limit: maxBodySize), encoding: encoding)
                        }
                        if let limiter = reservation.reserve(chunk.readableBytes) { return refused(limiter) }
                        raw.writeImmutableBuffer(chunk)
                    }
                }
            } catch is NIOTooManyBytesError {
                return OTLPHTTPResponses.rejected(.tooLarge(limit: maxBodySize), encoding: encoding)
            } catch {
                return OTLPHTTPResponses.rejected(.invalidBody("failed to read request body: \(error)"), encoding: encoding)
            }
            return await route.handle(raw, encoding, compression, maxBodySize, reservation)
        }

        /// 401 unless the authenticator accepts the request; the error body follows the request's
        /// `Content-Type` (JSON when it is missing or not an OTLP type).
        private func authenticate(_ request: Request, with authenticator: BearerTokenAuthenticator) -> Response? {
            let value = HTTPField.Name(authenticator.config.header).flatMap { request.headers[$0] }
            guard case .denied(let message) = authenticator.authenticate(headerValue: value) else { return nil }
            let encoding = OTLPEncoding(contentType: request.headers[.contentType]) ?? .json
            return OTLPHTTPResponses.status(.unauthorized, code: .unauthenticated, message: message, encoding: encoding)
        }
    }
}

/// Bytes registered with every memory limiter of a route until the request is answered: the body before
/// it is read, then what decompressing and decoding add to it. One per request, used by its task only.
final class MemoryReservation {
    let limiters: [MemoryLimiter]
    private(set) var bytes = 0

    init(limiters: [MemoryLimiter]) { self.limiters = limiters }

    /// Reserves `count` more bytes with all limiters, or none: returns the limiter that refused.
    func reserve(_ count: Int) -> MemoryLimiter? {
        guard count > 0 else { return nil }
        for (index, limiter) in limiters.enumerated() where !limiter.reserve(count) {
            for earlier in limiters[..<index] { earlier.release(count) }
            return limiter
        }
        bytes += count
        return nil
    }

    func releaseAll() {
        for limiter in limiters { limiter.release(bytes) }
        bytes = 0
    }

    /// What a request holds beyond its body (already reserved) while it waits for the pipeline: the
    /// decompressed bytes when it was compressed, and for OTLP/JSON the messages it decodes to, about as large
    /// as its text. A protobuf body travels as the bytes it came in (`PipelineData`): nothing more.
    static func addedSize(plainBytes: Int, encoding: OTLPEncoding, compression: ContentEncoding) -> Int {
        (compression == .identity ? 0 : plainBytes) + (encoding == .json ? plainBytes : 0)
    }
}
