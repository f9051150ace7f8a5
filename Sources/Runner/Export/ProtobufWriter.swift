import Foundation
import NIOCore

/// Protobuf wire format written straight into one growing buffer (`ByteWriter`), in one pass.
///
/// A nested message's length is not known before its body is written: `message(_:_:)` reserves one byte for it and,
/// in the rare case the body is 128 bytes or longer, moves the body up by the extra length bytes. The output is
/// canonical (shortest varints), as swift-protobuf writes it; no size pass is needed.
struct ProtobufWriter: ~Copyable {
    private var output: ByteWriter

    init(capacity: Int = 0) {
        output = ByteWriter(capacity: capacity)
    }

    private init(output: consuming ByteWriter) {
        self.output = output
    }

    /// Bytes written so far.
    var count: Int { output.count }

    /// The bytes `body` writes, as an array, written in the array's own storage while `capacity` suffices
    /// (`ByteWriter.collect`).
    static func encode(capacity: Int, _ body: (inout ProtobufWriter) -> Void) -> [UInt8] {
        ByteWriter.collect(capacity: capacity) { output in
            var writer = ProtobufWriter(output: output)
            body(&writer)
            return writer.output
        }
    }

    /// The bytes `body` writes, as a `ByteBuffer` (an HTTP body as it is sent), written in the buffer's own storage
    /// while `capacity` suffices.
    static func encodeBuffer(capacity: Int, _ body: (inout ProtobufWriter) -> Void) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        var spilled: [UInt8]?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { raw in
            let memory = UnsafeMutableBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: raw.count)
            let written: Int
            (written, spilled) = ByteWriter.write(in: memory) { output in
                var writer = ProtobufWriter(output: output)
                body(&writer)
                return writer.output
            }
            return written
        }
        if let spilled { buffer.writeBytes(spilled) }
        return buffer
    }

    /// A copy of what was written.
    var bytes: [UInt8] { output.bytes }

    /// Forgets what was written (the memory stays).
    mutating func removeAll() {
        output.removeAll()
    }

    /// The written bytes, borrowed for the duration of `body`.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try output.withBytes(body)
    }

    /// Raw bytes, no tag or length.
    @inline(__always)
    mutating func append(_ raw: UnsafeRawBufferPointer) {
        output.append(raw)
    }

    /// A varint; the caller reserved ten bytes for it.
    @inline(__always)
    private mutating func unsafeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            output.appendUnchecked(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        output.appendUnchecked(UInt8(truncatingIfNeeded: value))
    }

    mutating func varint(_ value: UInt64) {
        output.reserve(10)
        unsafeVarint(value)
    }

    @inline(__always)
    mutating func tag(_ field: Int, _ wireType: Int) {
        varint(UInt64(field << 3 | wireType))
    }

    /// A varint field (uint32/uint64/int64/enum/bool), written even when zero: callers skip defaults.
    mutating func varint(_ field: Int, _ value: UInt64) {
        output.reserve(20)
        unsafeVarint(UInt64(field << 3))
        unsafeVarint(value)
    }

    /// `int32` and `int64` (and enums): negative values take ten bytes, as in protobuf.
    mutating func int(_ field: Int, _ value: Int64) {
        varint(field, UInt64(bitPattern: value))
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        output.reserve(18)
        unsafeVarint(UInt64(field << 3 | 1))
        output.storeUnchecked(value.littleEndian)
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        output.reserve(14)
        unsafeVarint(UInt64(field << 3 | 5))
        output.storeUnchecked(value.littleEndian)
    }

    mutating func double(_ field: Int, _ value: Double) {
        fixed64(field, value.bitPattern)
    }

    /// A length-delimited field around `raw`.
    mutating func bytes(_ field: Int, _ raw: UnsafeRawBufferPointer) {
        output.reserve(20 + raw.count)
        unsafeVarint(UInt64(field << 3 | 2))
        unsafeVarint(UInt64(raw.count))
        output.append(raw)
    }

    mutating func string(_ field: Int, _ value: String) {
        let utf8 = value.utf8
        let length = utf8.count
        output.reserve(20 + length)
        unsafeVarint(UInt64(field << 3 | 2))
        unsafeVarint(UInt64(length))
        output.appendUnchecked(utf8, count: length)
    }

    /// A string field whose text is a literal.
    mutating func string(_ field: Int, literal: StaticString) {
        bytes(field, UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    mutating func data(_ field: Int, _ value: Data) {
        value.withUnsafeBytes { bytes(field, $0) }
    }

    /// Bytes that are already an encoded message (or any length-delimited payload).
    mutating func raw(_ field: Int, _ value: [UInt8]) {
        value.withUnsafeBytes { bytes(field, $0) }
    }

    /// The tag and length of a length-delimited field whose `length` bytes the caller writes next.
    mutating func lengthPrefix(_ field: Int, _ length: Int) {
        output.reserve(20)
        unsafeVarint(UInt64(field << 3 | 2))
        unsafeVarint(UInt64(length))
    }

    /// Bytes a length-delimited field of `length` bytes takes: tag, length and payload.
    static func fieldSize(_ field: Int, length: Int) -> Int {
        varintSize(UInt64(field << 3 | 2)) + varintSize(UInt64(length)) + length
    }

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest > 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    /// A nested message: tag, length, then whatever `body` writes.
    @inline(__always)
    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        let lengthAt = beginMessage(field)
        body(&self)
        endMessage(lengthAt)
    }

    /// Writes the tag and a one-byte length placeholder; returns where the length goes (for `endMessage`).
    @inline(__always)
    mutating func beginMessage(_ field: Int) -> Int {
        output.reserve(11)
        unsafeVarint(UInt64(field << 3 | 2))
        output.appendUnchecked(0)
        return output.count - 1
    }

    /// Fills in the length of the message begun at `lengthAt`.
    @inline(__always)
    mutating func endMessage(_ lengthAt: Int) {
        let length = output.count - lengthAt - 1
        if _fastPath(length < 0x80) {
            output.overwrite(at: lengthAt, with: UInt8(truncatingIfNeeded: length))
        } else {
            widenLength(at: lengthAt, length: length)
        }
    }

    @inline(never)
    private mutating func widenLength(at lengthAt: Int, length: Int) {
        let extra = Self.varintSize(UInt64(length)) - 1
        output.openGap(at: lengthAt + 1, extra)
        var at = lengthAt
        var value = UInt64(length)
        while value >= 0x80 {
            output.overwrite(at: at, with: UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
            at += 1
        }
        output.overwrite(at: at, with: UInt8(truncatingIfNeeded: value))
    }
}

extension ProtobufWriter {
    /// A 16-byte trace id as a `bytes` field (big-endian, as `TraceID.data`).
    mutating func traceID(_ field: Int, _ id: TraceID) {
        output.reserve(27)
        unsafeVarint(UInt64(field << 3 | 2))
        output.appendUnchecked(16)
        output.storeUnchecked(id.high.bigEndian)
        output.storeUnchecked(id.low.bigEndian)
    }

    /// An 8-byte span id as a `bytes` field.
    mutating func spanID(_ field: Int, _ id: SpanID) {
        output.reserve(19)
        unsafeVarint(UInt64(field << 3 | 2))
        output.appendUnchecked(8)
        output.storeUnchecked(id.value.bigEndian)
    }
}
