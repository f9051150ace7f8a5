package import Foundation
package import SwiftProtobuf

/// OTLP/JSON on top of swift-protobuf's proto3 JSON mapping, with the OTLP deviations
/// (opentelemetry-proto `docs/specification.md`, "JSON Protobuf Encoding"):
/// trace and span ids are hex strings, not base64; enums are integers; unknown fields are ignored.
/// An unknown enum *name* is an error, as upstream's decoder makes it (a 400). swift-protobuf can only
/// ignore both or neither, so a body is read strictly first, and read again ignoring both only when the
/// strict reading stopped at an unknown field: an unknown enum name after the first unknown field of a
/// body is then left unset instead of rejected.
///
/// swift-protobuf already accepts lowerCamelCase and snake_case keys and 64-bit integers as numbers
/// or strings. For ids, decoding lets swift-protobuf read the string as base64 and then recovers the
/// text: a 32/16-digit hex id base64-decodes to exactly 24/12 bytes, and re-encoding those bytes
/// gives the original text back, which is then read as hex. An id that decodes to exactly 16/8 bytes
/// was sent base64-encoded (swift-otel 1.6 does this; 24/12 characters, never confused with 32/16 hex
/// digits) and is accepted as is. Every other id is an error.
package enum OTLPJSON {
    private static let decodingOptions: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return options
    }()

    private static let strictDecodingOptions = JSONDecodingOptions()

    private static let encodingOptions: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.alwaysPrintEnumsAsInts = true
        return options
    }()

    /// Decodes an OTLP/JSON request body.
    package static func decode<M: SwiftProtobuf.Message & OTLPIdentifierCarrying>(
        _ type: M.Type, from bytes: some SwiftProtobufContiguousBytes
    ) throws -> M {
        var message: M
        do {
            message = try M(jsonUTF8Bytes: bytes, options: strictDecodingOptions)
        } catch JSONDecodingError.unknownField {
            message = try M(jsonUTF8Bytes: bytes, options: decodingOptions)
        }
        try message.forEachIdentifier { id, kind, field in
            id = try recoverIdentifier(id, kind: kind, field: field)
        }
        return message
    }

    /// Decodes a message without ids (responses, `google.rpc.Status`).
    package static func decode<M: SwiftProtobuf.Message>(
        _ type: M.Type, from bytes: some SwiftProtobufContiguousBytes
    ) throws -> M {
        try M(jsonUTF8Bytes: bytes, options: decodingOptions)
    }

    /// Encodes a request as OTLP/JSON: lowercase hex ids, integer enums, 64-bit integers as strings.
    package static func encode<M: SwiftProtobuf.Message & OTLPIdentifierCarrying>(_ message: M) throws -> [UInt8] {
        var copy = message
        try copy.forEachIdentifier { id, _, _ in
            // The bytes whose base64 text is the id's hex: swift-protobuf then writes exactly the hex.
            guard !id.isEmpty, let disguised = Data(base64Encoded: Hex.encode(id)) else { return }
            id = disguised
        }
        return try copy.jsonUTF8Bytes(options: encodingOptions)
    }

    /// Encodes a message without ids (responses, `google.rpc.Status`).
    package static func encode<M: SwiftProtobuf.Message>(_ message: M) throws -> [UInt8] {
        try message.jsonUTF8Bytes(options: encodingOptions)
    }

    private static func recoverIdentifier(_ decoded: Data, kind: OTLPIdentifierKind, field: String) throws -> Data {
        let hexLength = kind.byteCount * 2
        switch decoded.count {
        case 0, kind.byteCount:
            return decoded
        case hexLength * 3 / 4:
            let text = Array(decoded.base64EncodedString().utf8)
            guard let id = Hex.decode(text) else {
                throw OTLPInvalidIdentifierError(
                    kind: kind, field: field, detail: "\"\(String(decoding: text, as: UTF8.self))\" is not \(hexLength) hex digits")
            }
            return id
        default:
            throw OTLPInvalidIdentifierError(
                kind: kind, field: field,
                detail: "want \(hexLength) hex digits (or base64 of \(kind.byteCount) bytes)")
        }
    }
}
