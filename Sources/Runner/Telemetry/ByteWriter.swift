/// Bytes appended to raw memory that the writer owns (noncopyable, freed in `deinit`): a store and a capacity check
/// per append, without `Array.append`'s uniqueness check. The stdout writer's buffer and the JSON lines' target.
/// Sendable: the memory belongs to this one value, which moves rather than copies.
struct ByteWriter: ~Copyable, @unchecked Sendable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written so far.
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 32)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
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
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
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

    /// A string's UTF-8 bytes, as they are (no escaping).
    mutating func append(utf8 text: String) {
        let utf8 = text.utf8
        let length = utf8.count
        reserve(length)
        count += UnsafeMutableBufferPointer(start: base + count, count: length).initialize(from: utf8).1
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
        if value < 0 {
            base[count] = UInt8(ascii: "-")
            count += 1
        }
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
