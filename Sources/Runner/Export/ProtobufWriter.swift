import Foundation

/// Protobuf wire format written straight into one growing byte array, in one pass.
///
/// A nested message's length is not known before its body is written: `message(_:_:)` reserves one byte
/// for it and, in the rare case the body is 128 bytes or longer, moves the body up by the extra length
/// bytes. The output is canonical (shortest varints), as swift-protobuf writes it; no size pass is needed.
struct ProtobufWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    @inline(__always)
    mutating func tag(_ field: Int, _ wireType: Int) {
        varint(UInt64(field << 3 | wireType))
    }

    /// A varint field (uint32/uint64/int64/enum/bool), written even when zero: callers skip defaults.
    mutating func varint(_ field: Int, _ value: UInt64) {
        tag(field, 0)
        varint(value)
    }

    /// `int32` and `int64` (and enums): negative values take ten bytes, as in protobuf.
    mutating func int(_ field: Int, _ value: Int64) {
        varint(field, UInt64(bitPattern: value))
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func double(_ field: Int, _ value: Double) {
        fixed64(field, value.bitPattern)
    }

    mutating func string(_ field: Int, _ value: String) {
        tag(field, 2)
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func data(_ field: Int, _ value: Data) {
        tag(field, 2)
        varint(UInt64(value.count))
        value.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// Bytes that are already an encoded message (or any length-delimited payload).
    mutating func raw(_ field: Int, _ value: [UInt8]) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A nested message: tag, length, then whatever `body` writes.
    @inline(__always)
    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        tag(field, 2)
        let lengthAt = bytes.count
        bytes.append(0)
        body(&self)
        patchLength(at: lengthAt)
    }

    private mutating func patchLength(at lengthAt: Int) {
        let length = bytes.count - lengthAt - 1
        if length < 0x80 {
            bytes[lengthAt] = UInt8(length)
            return
        }
        var prefix = ProtobufWriter()
        prefix.varint(UInt64(length))
        let extra = prefix.bytes.count - 1
        bytes.append(contentsOf: repeatElement(0, count: extra))
        bytes.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            UnsafeMutableRawPointer(base + lengthAt + 1 + extra).copyMemory(from: base + lengthAt + 1, byteCount: length)  // memmove
            for (index, byte) in prefix.bytes.enumerated() { base[lengthAt + index] = byte }
        }
    }
}

extension ProtobufWriter {
    /// A 16-byte trace id as a `bytes` field (big-endian, as `TraceID.data`).
    mutating func traceID(_ field: Int, _ id: TraceID) {
        tag(field, 2)
        bytes.append(16)
        withUnsafeBytes(of: (id.high.bigEndian, id.low.bigEndian)) { bytes.append(contentsOf: $0) }
    }

    /// An 8-byte span id as a `bytes` field.
    mutating func spanID(_ field: Int, _ id: SpanID) {
        tag(field, 2)
        bytes.append(8)
        withUnsafeBytes(of: id.value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
