package import Foundation
package import NIOCore
package import SwiftProtobuf

/// An OTLP export request of any signal: decodable from protobuf or OTLP/JSON, ids checked.
package protocol OTLPRequest: SwiftProtobuf.Message, OTLPIdentifierCarrying, Sendable {
    associatedtype Response: SwiftProtobuf.Message & Sendable
    static var signal: Signal { get }
    /// A success response: an empty `partial_success`, as upstream answers (`0A 00` / `{"partialSuccess":{}}`).
    static var successResponse: Response { get }
}

extension OTLPTracesRequest: OTLPRequest {
    package static var signal: Signal { .traces }
    package static var successResponse: OTLPTracesResponse {
        var response = OTLPTracesResponse()
        response.partialSuccess = .init()
        return response
    }
}

extension OTLPMetricsRequest: OTLPRequest {
    package static var signal: Signal { .metrics }
    package static var successResponse: OTLPMetricsResponse {
        var response = OTLPMetricsResponse()
        response.partialSuccess = .init()
        return response
    }
}

extension OTLPLogsRequest: OTLPRequest {
    package static var signal: Signal { .logs }
    package static var successResponse: OTLPLogsResponse {
        var response = OTLPLogsResponse()
        response.partialSuccess = .init()
        return response
    }
}

/// A request body that is not a valid OTLP message (→ HTTP 400, status code 3).
package struct OTLPDecodingError: Error, CustomStringConvertible, Sendable {
    package var description: String
}

/// Encoding and decoding of OTLP messages straight from and into NIO buffers.
package enum OTLPCodec {
    /// Decodes a request body; trace/span ids must be empty or exactly 16/8 bytes.
    package static func decode<M: OTLPRequest>(
        _ type: M.Type, from body: ByteBuffer, encoding: OTLPEncoding
    ) throws(OTLPDecodingError) -> M {
        do {
            switch encoding {
            case .protobuf:
                var message = try body.withUnsafeReadableBytes { bytes in
                    try M(serializedBytes: RawSpan(_unsafeBytes: bytes))
                }
                try message.validateIdentifiers()
                return message
            case .json:
                return try body.withUnsafeReadableBytes { bytes in
                    // Borrow the buffer's bytes for the duration of the decode; nothing keeps them.
                    guard let base = bytes.baseAddress, !bytes.isEmpty else { return try OTLPJSON.decode(M.self, from: Data()) }
                    let view = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
                    return try OTLPJSON.decode(M.self, from: view)
                }
            }
        } catch let error as OTLPInvalidIdentifierError {
            throw OTLPDecodingError(description: error.description)
        } catch {
            let format = encoding == .protobuf ? "proto" : "JSON"
            throw OTLPDecodingError(description: "failed to unmarshal \(format) request: \(describe(error))")
        }
    }

    /// Encodes any message (a response, a `google.rpc.Status`, or a request) in `encoding`.
    package static func encode(_ message: some SwiftProtobuf.Message, as encoding: OTLPEncoding) throws -> ByteBuffer {
        switch encoding {
        case .protobuf:
            let bytes: [UInt8] = try message.serializedBytes()
            return ByteBuffer(bytes: bytes)
        case .json:
            if let request = message as? any OTLPIdentifierCarrying & SwiftProtobuf.Message {
                return ByteBuffer(bytes: try OTLPJSON.encode(request))
            }
            return ByteBuffer(bytes: try OTLPJSON.encode(message))
        }
    }

    /// swift-protobuf's errors print as `SwiftProtobuf.JSONDecodingError.malformedNumber`; keep the case name.
    private static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.split(separator: ".").last.map(String.init) ?? text
    }
}
