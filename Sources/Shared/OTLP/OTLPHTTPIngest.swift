package import NIOCore

/// Why an OTLP/HTTP request body was not accepted, in the order the receiver checks (reference §1.3).
package enum OTLPHTTPIngestError: Error, Equatable, CustomStringConvertible, Sendable {
    /// `Content-Type` missing or not protobuf/JSON → 415.
    case unsupportedMediaType
    /// `Content-Encoding` not served → 400.
    case unsupportedContentEncoding(String)
    /// Body over the limit, before or after decompression → 413.
    case tooLarge(limit: Int)
    /// Bad compressed data or a malformed message → 400.
    case invalidBody(String)

    package var description: String {
        switch self {
        case .unsupportedMediaType: "unsupported media type"
        case .unsupportedContentEncoding(let value): "unsupported Content-Encoding: \(value)"
        case .tooLarge(let limit): "request body too large: over max_request_body_size (\(limit) bytes)"
        case .invalidBody(let reason): reason
        }
    }
}

/// The decoding path of an OTLP/HTTP request, from headers and raw body to a request message: the part
/// of the receiver that untrusted bytes reach, kept free of HTTP plumbing so it can be fuzzed.
package enum OTLPHTTPIngest {
    /// Reads the two headers that decide how the body is decoded.
    package static func negotiate(
        contentType: String?, contentEncoding: String?
    ) throws(OTLPHTTPIngestError) -> (OTLPEncoding, ContentEncoding) {
        guard let encoding = OTLPEncoding(contentType: contentType) else { throw .unsupportedMediaType }
        guard let compression = ContentEncoding(header: contentEncoding) else {
            throw .unsupportedContentEncoding(contentEncoding ?? "")
        }
        return (encoding, compression)
    }

    /// Decompresses (at most `limit` bytes) and decodes `body`.
    package static func decode<M: OTLPRequest>(
        _ type: M.Type, body: ByteBuffer, encoding: OTLPEncoding, compression: ContentEncoding, limit: Int
    ) throws(OTLPHTTPIngestError) -> M {
        try decodeMessage(M.self, from: decompress(body, compression: compression, limit: limit), encoding: encoding)
    }

    /// The first step of `decode`: the body as sent, at most `limit` bytes once decompressed.
    package static func decompress(_ body: ByteBuffer, compression: ContentEncoding, limit: Int) throws(OTLPHTTPIngestError) -> ByteBuffer {
        do {
            return try compression.decode(body, limit: limit)
        } catch .tooLarge(let limit) {
            throw .tooLarge(limit: limit)
        } catch {
            throw .invalidBody(error.description)
        }
    }

    /// The second step for protobuf bodies that stay undecoded: validated and counted in place
    /// (`OTLPWireScanner`), with the errors decoding would give.
    package static func scan<M: OTLPRequest>(_ type: M.Type, _ plain: ByteBuffer) throws(OTLPHTTPIngestError) -> OTLPWireCounts {
        do {
            return try plain.withUnsafeReadableBytes { bytes throws(OTLPDecodingError) in
                try OTLPWireScanner.scan(M.signal, bytes: bytes)
            }
        } catch {
            throw .invalidBody(error.description)
        }
    }

    /// The second step of `decode`: the message from the decompressed body.
    package static func decodeMessage<M: OTLPRequest>(
        _ type: M.Type, from plain: ByteBuffer, encoding: OTLPEncoding
    ) throws(OTLPHTTPIngestError) -> M {
        do {
            return try OTLPCodec.decode(M.self, from: plain, encoding: encoding)
        } catch {
            throw .invalidBody(error.description)
        }
    }
}
