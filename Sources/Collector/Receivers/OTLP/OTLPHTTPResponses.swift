import HTTPTypes
import HummingbirdCore
import NIOCore
import Shared

/// The receiver's answers, with upstream's bodies (reference §1.7–1.8) and our documented deviations:
/// 413 for oversize bodies (the OTLP spec's code) and `Retry-After` on every 503.
enum OTLPHTTPResponses {
    /// `404 page not found\n`, Go's default text.
    static let notFound = plain(.notFound, "404 page not found\n", contentType: "text/plain; charset=utf-8")
    static let methodNotAllowed = plain(.methodNotAllowed, "405 method not allowed, supported: [POST]")
    static let unsupportedMediaType = plain(
        .unsupportedMediaType, "415 unsupported media type, supported: [application/json, application/x-protobuf]")

    static func plain(_ status: HTTPResponse.Status, _ text: String, contentType: String = "text/plain") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A `google.rpc.Status` body in the request's encoding; `Retry-After` when `retryAfterSeconds` is set.
    static func status(
        _ httpStatus: HTTPResponse.Status, code: RPCCode, message: String, encoding: OTLPEncoding, retryAfterSeconds: Int64? = nil
    ) -> Response {
        let status = RPCStatus(code: code, message: message, retryAfterSeconds: retryAfterSeconds)
        var headers: HTTPFields = [.contentType: encoding.contentType]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        guard let body = try? OTLPCodec.encode(status, as: encoding) else { return marshalFailure }
        return Response(status: httpStatus, headers: headers, body: .init(byteBuffer: body))
    }

    /// 503 + `Retry-After` (one check interval, at least a second): a memory limiter refused the request.
    static func refused(by limiter: MemoryLimiter, encoding: OTLPEncoding) -> Response {
        status(.serviceUnavailable, code: .unavailable, message: "data refused due to high memory usage", encoding: encoding,
               retryAfterSeconds: max(1, limiter.retryAfter.components.seconds))
    }

    /// Upstream's fixed fallback when an error body cannot be encoded.
    static let marshalFailure = Response(
        status: .internalServerError, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: #"{"code": 13, "message": "failed to marshal error message"}"#)))

    static func success<M: OTLPRequest>(_ type: M.Type, encoding: OTLPEncoding) -> Response {
        Response(status: .ok, headers: [.contentType: encoding.contentType], body: .init(byteBuffer: successBody(encoding)))
    }

    /// `M.successResponse` (an empty `partial_success`, field 1 of each signal's response) encoded: the same bytes
    /// for the three signals, written out rather than encoded at start-up (swift-protobuf's JSON encoder costs
    /// milliseconds of dynamic casts the first time). `OTLPHTTPReceiverTests` checks them against the encoder.
    static func successBody(_ encoding: OTLPEncoding) -> ByteBuffer {
        switch encoding {
        case .protobuf: ByteBuffer(bytes: [0x0A, 0x00])
        case .json: ByteBuffer(string: #"{"partialSuccess":{}}"#)
        }
    }

    /// The answer to a request whose body was not accepted (413 or 400, status code 3).
    static func rejected(_ error: OTLPHTTPIngestError, encoding: OTLPEncoding) -> Response {
        switch error {
        case .unsupportedMediaType: unsupportedMediaType
        case .tooLarge: status(.contentTooLarge, code: .invalidArgument, message: error.description, encoding: encoding)
        case .unsupportedContentEncoding, .invalidBody:
            status(.badRequest, code: .invalidArgument, message: error.description, encoding: encoding)
        }
    }
}
