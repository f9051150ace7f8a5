/// The two OTLP/HTTP body encodings, chosen by `Content-Type`.
package enum OTLPEncoding: Sendable, Hashable {
    case protobuf
    case json

    /// Parses a `Content-Type` header by its media type only (parameters such as `charset` are
    /// ignored, the comparison is case-insensitive), as upstream does; nil when unsupported.
    package init?(contentType: String?) {
        guard let contentType else { return nil }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingASCIIWhitespace.lowercased() }
        switch mediaType {
        case "application/x-protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }

    /// The exact `Content-Type` of a body in this encoding (no parameters, as upstream answers).
    package var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }
}
