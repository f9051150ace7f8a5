import Tracing

/// One attribute of a `RecordingSpan`, laid out so that storing and encoding it copies next to nothing: a literal key
/// (the job's own keys) is kept as its bytes, written without `String` work; the kind and a scalar value are plain
/// fields; the rest (a key that is not a literal, a string value, any other value) sits in one optional box. (An enum
/// with `String` or `SpanAttribute` payloads, and `SpanAttribute` itself with its many cases, is copied through runtime
/// witnesses each time it is stored or a `switch` reads it.)
/// The trade-off, measured: a `String` key field instead of the box would save `setAttribute` (keys not literal) an
/// allocation, but brings back a witness copy per stored attribute: 14,136 → 15,093 instructions per job record.
struct RecordedAttribute {
    private enum Kind: UInt8 {
        case double, int64, bool, string, other
    }

    /// The key when it is a literal; otherwise `boxed.key`.
    private var literalKey: StaticString?
    private var kind: Kind
    /// A double's bit pattern, an int64's, or a bool as 0 or 1.
    private var bits: UInt64
    private var boxed: Boxed?

    private final class Boxed: Sendable {
        let key: String
        let text: String
        let other: SpanAttribute?

        init(key: String, text: String, other: SpanAttribute?) {
            self.key = key
            self.text = text
            self.other = other
        }
    }

    init(key: String, value: SpanAttribute) {
        self.init(literalKey: nil, key: key, value: value)
    }

    init(key: StaticString, value: SpanAttribute) {
        self.init(literalKey: key, key: "", value: value)
    }

    /// A double under a literal key.
    init(key: StaticString, double: Double) {
        literalKey = key
        kind = .double
        bits = double.bitPattern
        boxed = nil
    }

    private init(literalKey: StaticString?, key: String, value: SpanAttribute) {
        self.literalKey = literalKey
        bits = 0
        var text = ""
        var other: SpanAttribute?
        switch value {
        case .double(let number):
            kind = .double
            bits = number.bitPattern
        case .int64(let number):
            kind = .int64
            bits = UInt64(bitPattern: number)
        case .bool(let flag):
            kind = .bool
            bits = flag ? 1 : 0
        case .string(let string):
            kind = .string
            text = string
        default:
            kind = .other
            other = value
        }
        boxed = literalKey != nil && kind != .string && kind != .other ? nil : Boxed(key: key, text: text, other: other)
    }

    var key: String { literalKey?.description ?? boxed!.key }

    var value: SpanAttribute {
        switch kind {
        case .double: .double(Double(bitPattern: bits))
        case .int64: .int64(Int64(bitPattern: bits))
        case .bool: .bool(bits != 0)
        case .string: .string(boxed!.text)
        case .other: boxed!.other!
        }
    }

    /// The `KeyValue` message, as `OTLPProtobufEncoder.attribute` writes it for `value`; read through the pointer,
    /// field by field.
    @inline(__always)
    static func encode(_ attribute: UnsafePointer<RecordedAttribute>, _ field: Int, into writer: inout ProtobufWriter) {
        let kind = attribute.pointee.kind
        if kind == .other {
            OTLPProtobufEncoder.attribute(field, attribute.pointee.key, attribute.pointee.value, into: &writer)
            return
        }
        let keyValue = writer.beginMessage(field)
        if let literal = attribute.pointee.literalKey {
            if literal.utf8CodeUnitCount > 0 { writer.string(1, literal: literal) }
        } else if let boxed = attribute.pointee.boxed, !boxed.key.isEmpty {
            writer.string(1, boxed.key)
        }
        let anyValue = writer.beginMessage(2)
        switch kind {
        case .double: writer.double(4, Double(bitPattern: attribute.pointee.bits))
        case .int64: writer.int(3, Int64(bitPattern: attribute.pointee.bits))
        case .bool: writer.varint(2, attribute.pointee.bits)
        case .string: writer.string(1, attribute.pointee.boxed!.text)
        case .other: break
        }
        writer.endMessage(anyValue)
        writer.endMessage(keyValue)
    }
}
