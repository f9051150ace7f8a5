/// The text that the debug exporter's formatters build, as UTF-8 bytes appended in place.
///
/// Mirrors upstream's `dataBuffer` (`exporter/debugexporter/internal/otlptext/databuffer.go`); the value, number,
/// timestamp and id renderings live in the `Text*Formatting.swift` extensions. Bytes rather than a `String`, so
/// that numbers and ids go in without a temporary string each.
struct DebugTextBuffer {
    /// Everything written so far, UTF-8.
    private(set) var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Everything written so far, as a string.
    var text: String {
        String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Plain writes

    mutating func write(_ string: String) {
        bytes.append(contentsOf: string.utf8)
    }

    mutating func write(_ scalar: Unicode.Scalar) {
        UTF8.encode(scalar) { bytes.append($0) }
    }

    /// Writes `value` in decimal.
    mutating func write(_ value: some BinaryInteger) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        writeDecimal(UInt64(value.magnitude), minimumDigits: 1)
    }

    /// Writes `value` in decimal, left-padded with zeros to `width` digits (for non-negative values).
    mutating func write(_ value: Int, zeroPaddedTo width: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        writeDecimal(UInt64(value.magnitude), minimumDigits: width)
    }

    private mutating func writeDecimal(_ value: UInt64, minimumDigits: Int) {
        // Least significant digit first, then reversed in place.
        let start = bytes.count
        var remaining = value
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(remaining % 10))
            remaining /= 10
        } while remaining > 0
        while bytes.count - start < minimumDigits {
            bytes.append(UInt8(ascii: "0"))
        }
        bytes.withUnsafeMutableBufferPointer { buffer in
            var low = start
            var high = buffer.count - 1
            while low < high {
                buffer.swapAt(low, high)
                low += 1
                high -= 1
            }
        }
    }

    mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Writes `string` and ends the line.
    mutating func line(_ string: String) {
        write(string)
        newline()
    }

    /// Writes `label`, then `value`, and ends the line.
    mutating func line(_ label: String, _ value: String) {
        write(label)
        write(value)
        newline()
    }

    /// Writes `label`, then `value` in decimal, and ends the line.
    mutating func line(_ label: String, _ value: some BinaryInteger) {
        write(label)
        write(value)
        newline()
    }

    /// Lets `body` write up to `capacity` ASCII bytes in place, from the start of the buffer it gets; `body` returns
    /// how many it wrote.
    mutating func writeASCII(capacity: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) -> Int) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: capacity))
        let written = bytes.withUnsafeMutableBufferPointer { all in
            body(UnsafeMutableBufferPointer(rebasing: all[start...]))
        }
        bytes.removeLast(capacity - written)
    }

    /// Drops everything written after the first `count` bytes (used to undo a partly written value).
    mutating func truncate(toCount count: Int) {
        if bytes.count > count {
            bytes.removeSubrange(count...)
        }
    }
}
