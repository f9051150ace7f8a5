import Foundation

/// Protobuf wire format written straight into one growing buffer, in one pass.
///
/// The buffer is raw memory owned by the writer (noncopyable: one owner, freed in `deinit`), so writing a byte is a
/// store and a capacity check, not an `Array.append` with its uniqueness check. A nested message's length is not
/// known before its body is written: `message(_:_:)` reserves one byte for it and, in the rare case the body is 128
/// bytes or longer, moves the body up by the extra length bytes. The output is canonical (shortest varints), as
/// swift-protobuf writes it; no size pass is needed.
struct ProtobufWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written so far.
    private(set) var count = 0
    /// False while the writer works in memory it was lent (`encode(capacity:_:)`), true once it allocated its own.
    private var ownsMemory = true

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 32)
        base = .allocate(capacity: self.capacity)
    }

    private init(lent buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
        ownsMemory = false
    }

    deinit {
        if ownsMemory { base.deallocate() }
    }

    /// The bytes `body` writes, as an array: the writer works in the array's own storage while `capacity` suffices
    /// (no copy), and in memory of its own beyond, copied once at the end.
    static func encode(capacity: Int, _ body: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var spilled: [UInt8]?
        let array = [UInt8](unsafeUninitializedCapacity: max(capacity, 32)) { buffer, initialized in
            var writer = ProtobufWriter(lent: buffer)
            body(&writer)
            if writer.ownsMemory {
                spilled = writer.bytes
                initialized = 0
            } else {
                initialized = writer.count
            }
        }
        return spilled ?? array
    }

    /// A copy of what was written.
    var bytes: [UInt8] {
        [UInt8](UnsafeBufferPointer(start: base, count: count))
    }

    /// The written bytes, borrowed for the duration of `body`.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if _slowPath(count + extra > capacity) { grow(to: count + extra) }
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.moveInitialize(from: base, count: count)
        if ownsMemory { base.deallocate() }
        base = grown
        capacity = newCapacity
        ownsMemory = true
    }

    /// Raw bytes, no tag or length.
    @inline(__always)
    mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress, raw.count > 0 else { return }
        reserve(raw.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: raw.count)
        count += raw.count
    }

    @inline(__always)
    private mutating func unsafeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            base[count] = UInt8(truncatingIfNeeded: value) | 0x80
            count += 1
            value >>= 7
        }
        base[count] = UInt8(truncatingIfNeeded: value)
        count += 1
    }

    mutating func varint(_ value: UInt64) {
        reserve(10)
        unsafeVarint(value)
    }

    @inline(__always)
    mutating func tag(_ field: Int, _ wireType: Int) {
        varint(UInt64(field << 3 | wireType))
    }

    /// A varint field (uint32/uint64/int64/enum/bool), written even when zero: callers skip defaults.
    mutating func varint(_ field: Int, _ value: UInt64) {
        reserve(20)
        unsafeVarint(UInt64(field << 3))
        unsafeVarint(value)
    }

    /// `int32` and `int64` (and enums): negative values take ten bytes, as in protobuf.
    mutating func int(_ field: Int, _ value: Int64) {
        varint(field, UInt64(bitPattern: value))
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        reserve(18)
        unsafeVarint(UInt64(field << 3 | 1))
        UnsafeMutableRawPointer(base + count).storeBytes(of: value.littleEndian, as: UInt64.self)
        count += 8
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        reserve(14)
        unsafeVarint(UInt64(field << 3 | 5))
        UnsafeMutableRawPointer(base + count).storeBytes(of: value.littleEndian, as: UInt32.self)
        count += 4
    }

    mutating func double(_ field: Int, _ value: Double) {
        fixed64(field, value.bitPattern)
    }

    /// A length-delimited field around `raw`.
    mutating func bytes(_ field: Int, _ raw: UnsafeRawBufferPointer) {
        reserve(20 + raw.count)
        unsafeVarint(UInt64(field << 3 | 2))
        unsafeVarint(UInt64(raw.count))
        if let source = raw.baseAddress, raw.count > 0 {
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: raw.count)
            count += raw.count
        }
    }

    mutating func string(_ field: Int, _ value: String) {
        // Copied by the UTF-8 view (a store of the raw bits for a small string), without `withUTF8`'s closure.
        let utf8 = value.utf8
        let length = utf8.count
        reserve(20 + length)
        unsafeVarint(UInt64(field << 3 | 2))
        unsafeVarint(UInt64(length))
        count += UnsafeMutableBufferPointer(start: base + count, count: length).initialize(from: utf8).1
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
        reserve(20)
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
        reserve(11)
        unsafeVarint(UInt64(field << 3 | 2))
        base[count] = 0
        count += 1
        return count - 1
    }

    /// Fills in the length of the message begun at `lengthAt`.
    @inline(__always)
    mutating func endMessage(_ lengthAt: Int) {
        let length = count - lengthAt - 1
        if _fastPath(length < 0x80) {
            base[lengthAt] = UInt8(truncatingIfNeeded: length)
        } else {
            widenLength(at: lengthAt, length: length)
        }
    }

    @inline(never)
    private mutating func widenLength(at lengthAt: Int, length: Int) {
        let extra = Self.varintSize(UInt64(length)) - 1
        reserve(extra)
        let body = base + lengthAt + 1
        UnsafeMutableRawPointer(body + extra).copyMemory(from: body, byteCount: length)  // memmove
        count += extra
        let end = count
        count = lengthAt
        unsafeVarint(UInt64(length))
        count = end
    }
}

extension ProtobufWriter {
    /// A 16-byte trace id as a `bytes` field (big-endian, as `TraceID.data`).
    mutating func traceID(_ field: Int, _ id: TraceID) {
        reserve(27)
        unsafeVarint(UInt64(field << 3 | 2))
        base[count] = 16
        let at = UnsafeMutableRawPointer(base + count + 1)
        at.storeBytes(of: id.high.bigEndian, as: UInt64.self)
        (at + 8).storeBytes(of: id.low.bigEndian, as: UInt64.self)
        count += 17
    }

    /// An 8-byte span id as a `bytes` field.
    mutating func spanID(_ field: Int, _ id: SpanID) {
        reserve(19)
        unsafeVarint(UInt64(field << 3 | 2))
        base[count] = 8
        UnsafeMutableRawPointer(base + count + 1).storeBytes(of: id.value.bigEndian, as: UInt64.self)
        count += 9
    }
}
