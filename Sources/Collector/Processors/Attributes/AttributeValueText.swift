import Shared

/// The text forms and comparisons of attribute values that the attributes processor needs, as pdata and
/// the contrib filters define them.
enum AttributeValueText {
    /// pdata's `Value.AsString()` (reference §6.6): what `convert` to `string` produces and what
    /// `services` and `log_bodies` are matched against.
    static func asString(_ value: OTLPAnyValue) -> String {
        var buffer = DebugTextBuffer()
        buffer.writeValueText(value)
        return buffer.text
    }

    /// The text a `regexp` attribute criterion is matched against (contrib `attributeStringValue`): strings as
    /// they are, bools `true`/`false`, ints in base 10, doubles as Go's `FormatFloat(v, 'f', -1, 64)`; nil for
    /// every other type (which never matches).
    static func scalarText(_ value: OTLPAnyValue) -> String? {
        switch value.value {
        case .stringValue(let string): string
        case .boolValue(let bool): bool ? "true" : "false"
        case .intValue(let int): String(int)
        case .doubleValue(let double): goFixedFloat(double)
        default: nil
        }
    }

    /// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that read back as `v`, never in
    /// exponent form (`1e21` → `1000000000000000000000`, `1e-7` → `0.0000001`); `NaN`, `+Inf`, `-Inf`.
    static func goFixedFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        // Swift's description holds the shortest round-trip digits, sometimes in exponent form.
        let text = "\(value.magnitude)"
        let sign = value.sign == .minus ? "-" : ""
        let mantissa: Substring
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        } else {
            mantissa = text[...]
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerDigits = String(parts[0])
        let fractionDigits = parts.count > 1 ? String(parts[1]) : ""
        // All digits with the decimal point after `pointPosition` of them.
        var digits = integerDigits + fractionDigits
        var pointPosition = integerDigits.count + exponent
        // Drop leading zeros (keeping the point where it is) and trailing zeros of the fraction.
        while digits.count > 1 && digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        if pointPosition <= 0 {
            digits = String(repeating: "0", count: -pointPosition + 1) + digits
            pointPosition = 1
        } else if pointPosition > digits.count {
            digits += String(repeating: "0", count: pointPosition - digits.count)
        }
        var integer = String(digits.prefix(pointPosition))
        var fraction = String(digits.dropFirst(pointPosition))
        while fraction.last == "0" { fraction.removeLast() }
        if integer.isEmpty { integer = "0" }
        return sign + integer + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// Upstream's `attributeValueMatch`: same type, and the same value (maps, slices and bytes by content).
    static func sameValue(_ expected: OTLPAnyValue, _ actual: OTLPAnyValue) -> Bool {
        switch (expected.value, actual.value) {
        case let (.stringValue(a)?, .stringValue(b)?): a == b
        case let (.boolValue(a)?, .boolValue(b)?): a == b
        case let (.intValue(a)?, .intValue(b)?): a == b
        case let (.doubleValue(a)?, .doubleValue(b)?): a == b
        default: expected == actual
        }
    }

    /// The bytes `hash` digests (contrib `sha2Hasher`): UTF-8 of a string, one byte 1/0 for a bool, the 8-byte
    /// little-endian two's complement of an int, the 8-byte little-endian IEEE-754 bits of a double; nothing
    /// for every other type and for the empty string (whose hash is then the empty string).
    static func hashInput(_ value: OTLPAnyValue) -> [UInt8] {
        switch value.value {
        case .stringValue(let string):
            return Array(string.utf8)
        case .boolValue(let bool):
            return [bool ? 1 : 0]
        case .intValue(let int):
            return withUnsafeBytes(of: int.littleEndian) { Array($0) }
        case .doubleValue(let double):
            return withUnsafeBytes(of: double.bitPattern.littleEndian) { Array($0) }
        default:
            return []
        }
    }

    /// The value `hash` leaves: lowercase hex SHA-256 of `hashInput`, or `""` when there is nothing to digest.
    static func hashed(_ value: OTLPAnyValue) -> OTLPAnyValue {
        let input = hashInput(value)
        var result = OTLPAnyValue()
        result.stringValue = input.isEmpty ? "" : SHA256.hexDigest(of: input)
        return result
    }

    /// `convert` (contrib `convertValue`): the converted value, or nil when it does not convert (the
    /// attribute is then left as it was).
    static func converted(_ value: OTLPAnyValue, to target: AttributeAction.ConversionTarget) -> OTLPAnyValue? {
        var result = OTLPAnyValue()
        switch target {
        case .int:
            switch value.value {
            case .intValue: return value
            case .doubleValue(let double):
                // Go's int64(float64) truncates toward zero; out of range (and NaN) it is undefined in Go,
                // here it saturates so that it cannot trap.
                guard !double.isNaN else { return nil }
                result.intValue = double >= 9.223372036854775807e18 ? .max : double < -9.223372036854775808e18 ? .min : Int64(double)
            case .boolValue(let bool): result.intValue = bool ? 1 : 0
            case .stringValue(let string):
                guard let int = goParseInt(string) else { return nil }
                result.intValue = int
            default: return nil
            }
        case .double:
            switch value.value {
            case .doubleValue: return value
            case .intValue(let int): result.doubleValue = Double(int)
            case .boolValue(let bool): result.doubleValue = bool ? 1 : 0
            case .stringValue(let string):
                guard let double = goParseFloat(string) else { return nil }
                result.doubleValue = double
            default: return nil
            }
        case .string:
            result.stringValue = asString(value)
        }
        return result
    }

    /// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits, nothing else.
    static func goParseInt(_ text: String) -> Int64? {
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(text)
    }

    /// Go's `strconv.ParseFloat(s, 64)` for the forms people write: decimal and exponent notation, `inf`,
    /// `infinity` and `nan` in any case, with `_` only between digits rejected (Go accepts it only with a
    /// base prefix). Hex floats are not read.
    static func goParseFloat(_ text: String) -> Double? {
        let lowered = text.lowercased()
        var body = Substring(lowered)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        if body == "inf" || body == "infinity" { return negative ? -.infinity : .infinity }
        if body == "nan" { return .nan }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-") }),
            body.contains(where: \.isNumber)
        else { return nil }
        return Double(text)
    }
}
