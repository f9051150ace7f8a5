/// Bytes appended to raw memory (noncopyable, one owner): a store and a capacity check per append, without
/// `Array.append`'s uniqueness check. The stdout writer's buffer, the JSON lines' target, and the storage under
/// `ProtobufWriter`. The memory is the writer's own (freed in `deinit`), or lent to it by `collect(capacity:_:)`
/// until it needs more. Sendable: the memory belongs to this one value, which moves rather than copies.
struct ByteWriter: ~Copyable, @unchecked Sendable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written so far.
    private(set) var count = 0
    /// False while the writer works in memory it was lent, true once it allocated its own.
    private var ownsMemory = true

    init(capacity: Int = 256) {
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

    /// What `body` writes, as an array: the writer works in the array's own storage while `capacity` suffices (no
    /// copy), and in memory of its own beyond, copied once at the end. `body` hands the writer back.
    static func collect(capacity: Int, _ body: (consuming ByteWriter) -> ByteWriter) -> [UInt8] {
        var spilled: [UInt8]?
        let array = [UInt8](unsafeUninitializedCapacity: max(capacity, 32)) { buffer, initialized in
            (initialized, spilled) = write(in: buffer, body)
        }
        return spilled ?? array
    }

    /// Lets `body` write in `memory`: returns how many bytes it wrote there, or, when it needed more room and went on
    /// in memory of its own, 0 and those bytes. `body` hands the writer back.
    static func write(
        in memory: UnsafeMutableBufferPointer<UInt8>, _ body: (consuming ByteWriter) -> ByteWriter
    ) -> (written: Int, spilled: [UInt8]?) {
        let writer = body(ByteWriter(lent: memory))
        return writer.ownsMemory ? (0, writer.bytes) : (writer.count, nil)
    }

    /// A copy of what was written.
    var bytes: [UInt8] {
        [UInt8](UnsafeBufferPointer(start: base, count: count))
    }

    /// The written bytes, borrowed for the duration of `body`.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Forgets what was written (the memory stays).
    mutating func removeAll() {
        count = 0
    }

    /// Makes room for `extra` more bytes, for the unchecked appends that follow.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if _slowPath(count + extra > capacity) { grow(to: count + extra) }
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        var newCapacity = max(capacity * 2, 32)  // lent memory may be empty
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.moveInitialize(from: base, count: count)
        if ownsMemory { base.deallocate() }
        base = grown
        capacity = newCapacity
        ownsMemory = true
    }

    // MARK: - Appends within reserved room

    /// One byte; the caller reserved room for it.
    @inline(__always)
    mutating func appendUnchecked(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// A value's bytes in memory order; the caller reserved room for them.
    @inline(__always)
    mutating func storeUnchecked<T: FixedWidthInteger>(_ value: T) {
        UnsafeMutableRawPointer(base + count).storeBytes(of: value, as: T.self)
        count += MemoryLayout<T>.size
    }

    /// A string's UTF-8 bytes (`count` of them); the caller reserved room for them. Copied by the UTF-8 view (a store
    /// of the raw bits for a small string), without `withUTF8`'s closure.
    @inline(__always)
    mutating func appendUnchecked(_ utf8: String.UTF8View, count length: Int) {
        count += UnsafeMutableBufferPointer(start: base + count, count: length).initialize(from: utf8).1
    }

    /// Replaces the byte written at `offset`.
    @inline(__always)
    mutating func overwrite(at offset: Int, with byte: UInt8) {
        base[offset] = byte
    }

    /// Moves the bytes from `offset` to the end up by `distance`, leaving `distance` bytes at `offset` to overwrite.
    mutating func openGap(at offset: Int, _ distance: Int) {
        reserve(distance)
        UnsafeMutableRawPointer(base + offset + distance).copyMemory(from: base + offset, byteCount: count - offset)  // memmove
        count += distance
    }

    // MARK: - Appends

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        appendUnchecked(byte)
    }

    @inline(__always)
    mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress, raw.count > 0 else { return }
        reserve(raw.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: raw.count)
        count += raw.count
    }

    /// A literal's UTF-8 bytes.
    @inline(__always)
    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// `count` bytes written in place by `body`, which gets a pointer to them.
    @inline(__always)
    mutating func append(count extra: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        reserve(extra)
        body(base + count)
        count += extra
    }

    /// A decimal integer, as `String(value)` writes it.
    mutating func append(decimal value: Int64) {
        reserve(20)
        var magnitude = value.magnitude
        if value < 0 { appendUnchecked(UInt8(ascii: "-")) }
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var index = count + digits - 1
        repeat {
            base[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        count += digits
    }
}
