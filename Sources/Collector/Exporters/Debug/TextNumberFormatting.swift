#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Shortest round-trip doubles

extension DebugTextBuffer {
    /// Writes `value` as a JavaScript (ES6) number, the way Go's `encoding/json` and pdata's `Value.AsString` do:
    /// shortest round-trip digits, plain notation unless the magnitude is below 1e-6 or at least 1e21, where the
    /// exponent form has no zero padding (`1e-7`, `1.5e+21`). Integral values have no fraction (`3`); `-0` keeps its sign.
    /// Non-finite values have no JSON form; they are written as Go's `strconv` spells them (`NaN`, `+Inf`, `-Inf`).
    mutating func writeJSNumber(_ value: Double) {
        writeShortest(value) { magnitude, _ in magnitude < 1e-6 || magnitude >= 1e21 ? .exponent(padded: false) : .plain }
    }

    /// Writes `value` as Go's `fmt` verb `%v` does for a `float64` (`%g` with the shortest digits): the exponent form,
    /// with at least two exponent digits, when the decimal exponent is below -4 or at least 6 (`1e+06`, `1e-05`,
    /// `1.5e+100`), plain notation otherwise (`123.456`, `100000`); `NaN`, `+Inf`, `-Inf` for non-finite values.
    mutating func writeGoFloat(_ value: Double) {
        writeShortest(value) { _, decimalExponent in
            decimalExponent < -4 || decimalExponent >= 6 ? .exponent(padded: true) : .plain
        }
    }

    /// Writes a non-finite double as Go's `strconv` and `fmt` do.
    private mutating func writeGoNonFinite(_ value: Double) {
        write(value.isNaN ? "NaN" : value.sign == .minus ? "-Inf" : "+Inf")
    }

    private enum Notation {
        case plain
        case exponent(padded: Bool)
    }

    /// Writes the shortest digits of `value` in the notation that `notation(magnitude, decimalExponent)` picks, where
    /// `decimalExponent` is the exponent of the scientific form (`d.ddd × 10^decimalExponent`).
    private mutating func writeShortest(_ value: Double, notation: (Double, Int) -> Notation) {
        guard value.isFinite else { return writeGoNonFinite(value) }
        let negative = value.sign == .minus
        guard value != 0 else { return write(negative ? "-0" : "0") }
        let magnitude = value.magnitude
        // Swift's `description` holds the shortest digits that read back as the same double (the closest ones when
        // several qualify), exactly the digits Go's `strconv` picks; only the notation differs.
        let description = magnitude.description
        writeASCII(capacity: 48) { out in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
                let (count, point) = Self.parseDigits(description, into: digits)
                let chosen = notation(magnitude, point - 1)
                return Self.render(
                    digits: UnsafeBufferPointer(rebasing: digits[..<count]), point: point, negative: negative,
                    notation: chosen, into: out
                )
            }
        }
    }

    /// Extracts the significant digits of a positive `description` ("123.456", "1.5e-07", "3.0", "0.001") into
    /// `digits`, without leading or trailing zeros. Returns their count and the decimal point position: the value is
    /// `0.d₁d₂…dₙ × 10^point`.
    private static func parseDigits(_ description: String, into digits: UnsafeMutableBufferPointer<UInt8>) -> (Int, Int) {
        var count = 0
        var integerDigits = 0
        var seenPoint = false
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in description.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                } else if count < digits.count {
                    digits[count] = byte
                    count += 1
                    if !seenPoint { integerDigits += 1 }
                }
            case UInt8(ascii: "."): seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-"): exponentSign = -1
            default: break
            }
        }
        var point = integerDigits + exponentSign * exponent
        var start = 0
        while start < count, digits[start] == UInt8(ascii: "0") {
            start += 1
            point -= 1
        }
        var end = count
        while end > start, digits[end - 1] == UInt8(ascii: "0") {
            end -= 1
        }
        if start > 0 {
            for index in start..<end { digits[index - start] = digits[index] }
        }
        return (end - start, point)
    }

    /// Lays out `digits` (value `0.d₁…dₙ × 10^point`) as Go's `strconv` `fmtF` / `fmtE` do for the shortest precision.
    private static func render(
        digits: UnsafeBufferPointer<UInt8>, point: Int, negative: Bool, notation: Notation,
        into out: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        var length = 0
        func put(_ byte: UInt8) {
            out[length] = byte
            length += 1
        }
        if negative { put(UInt8(ascii: "-")) }
        switch notation {
        case .plain:
            if point > 0 {
                for index in 0..<point { put(index < digits.count ? digits[index] : UInt8(ascii: "0")) }
            } else {
                put(UInt8(ascii: "0"))
            }
            if digits.count > point {
                put(UInt8(ascii: "."))
                for index in point..<digits.count { put(index >= 0 ? digits[index] : UInt8(ascii: "0")) }
            }
        case .exponent(let padded):
            put(digits[0])
            if digits.count > 1 {
                put(UInt8(ascii: "."))
                for index in 1..<digits.count { put(digits[index]) }
            }
            put(UInt8(ascii: "e"))
            var exponent = point - 1
            put(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            exponent = abs(exponent)
            if exponent >= 100 { put(UInt8(ascii: "0") + UInt8(exponent / 100)) }
            if exponent >= 10 || padded { put(UInt8(ascii: "0") + UInt8(exponent / 10 % 10)) }
            put(UInt8(ascii: "0") + UInt8(exponent % 10))
        }
        return length
    }
}

// MARK: - Fixed six decimals

extension DebugTextBuffer {
    /// Writes `value` as Go's `%f` does: six decimals, correctly rounded (ties to even); `NaN`, `+Inf`, `-Inf`.
    mutating func writeFixed6(_ value: Double) {
        guard value.isFinite else { return writeGoNonFinite(value) }
        let magnitude = value.magnitude
        guard magnitude < 0x1p53 else { return writeFixed6WithCLibrary(value) }
        // magnitude = significand × 2^-shift exactly; scaled by 10^6 it fits in 73 bits.
        let significand: UInt64
        let shift: Int
        if magnitude.exponentBitPattern == 0 {
            significand = magnitude.significandBitPattern
            shift = 1074
        } else {
            significand = magnitude.significandBitPattern | (1 << 52)
            shift = 1075 - Int(magnitude.exponentBitPattern)
        }
        let scaled = UInt128(significand) * 1_000_000
        var micros: UInt128
        if shift <= 0 {
            micros = scaled << UInt128(-shift)
        } else if shift >= 120 {
            micros = 0  // every bit is shifted out and the remainder is below one half
        } else {
            micros = scaled >> UInt128(shift)
            let remainder = scaled - (micros << UInt128(shift))
            let half = UInt128(1) << UInt128(shift - 1)
            if remainder > half || (remainder == half && micros & 1 == 1) { micros += 1 }
        }
        if value.sign == .minus { write("-") }
        write(UInt64(micros / 1_000_000))
        write(".")
        write(Int(micros % 1_000_000), zeroPaddedTo: 6)
    }

    /// Magnitudes of 2^53 and more are integers with up to 309 digits: the C library prints them exactly.
    private mutating func writeFixed6WithCLibrary(_ value: Double) {
        writeASCII(capacity: 400) { out in
            let written = out.baseAddress!.withMemoryRebound(to: CChar.self, capacity: out.count) { pointer in
                withVaList([value]) { vsnprintf(pointer, out.count, "%.6f", $0) }
            }
            return Int(max(0, min(written, Int32(out.count - 1))))
        }
    }
}
