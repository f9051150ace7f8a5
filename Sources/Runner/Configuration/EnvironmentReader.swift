/// Typed reads of environment variables following the OTel spec's rules
/// (<https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/>): an empty value is unset,
/// a malformed `OTEL_*` value is warned about and replaced by its default.
struct EnvironmentReader: Sendable {
    /// The merged environment (`.env` values under the real environment).
    var values: [String: String]
    /// Warnings about malformed values, in the order they were found.
    private(set) var warnings: [String] = []

    init(_ values: [String: String]) {
        self.values = values
    }

    /// The value, or nil when unset or empty.
    func string(_ key: String) -> String? {
        guard let value = values[key]?.trimmingWhitespace, !value.isEmpty else { return nil }
        return String(value)
    }

    /// Only case-insensitive `true` is true; values other than `true`/`false` are warned about.
    mutating func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let text = string(key) else { return defaultValue }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default:
            warn(key, text, expected: "true or false", using: "false")
            return false
        }
    }

    /// Integer milliseconds, non-negative; anything else warns and gives the default.
    mutating func milliseconds(_ key: String, default defaultValue: Int) -> Duration {
        guard let text = string(key) else { return .milliseconds(defaultValue) }
        guard let value = Int(text), value >= 0 else {
            warn(key, text, expected: "a non-negative integer of milliseconds", using: "\(defaultValue)")
            return .milliseconds(defaultValue)
        }
        return .milliseconds(value)
    }

    /// An integer in `range` (the spec's integers are 0 … 2³¹−1); anything else warns and gives the default.
    mutating func integer(_ key: String, default defaultValue: Int, in range: ClosedRange<Int> = 0...Int(Int32.max)) -> Int {
        guard let text = string(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            warn(key, text, expected: "an integer in \(range.lowerBound)...\(range.upperBound)", using: "\(defaultValue)")
            return defaultValue
        }
        return value
    }

    /// A case-insensitive choice among `allowed`; unknown values warn and give nil (the caller's default).
    mutating func choice(_ key: String, allowed: [String]) -> String? {
        guard let text = string(key) else { return nil }
        let lowered = text.lowercased()
        guard allowed.contains(lowered) else {
            warn(key, text, expected: allowed.joined(separator: ", "), using: "the default")
            return nil
        }
        return lowered
    }

    /// The first of `keys` that is set (signal-specific before generic).
    func first(_ keys: String...) -> (key: String, value: String)? {
        for key in keys {
            if let value = string(key) { return (key, value) }
        }
        return nil
    }

    mutating func warn(_ key: String, _ value: String, expected: String, using fallback: String) {
        warn("ignoring \(key)=\"\(value)\": expected \(expected); using \(fallback)")
    }

    /// Records a warning once (generic variables are read once per signal).
    mutating func warn(_ message: String) {
        if !warnings.contains(message) { warnings.append(message) }
    }

    /// Parses W3C-baggage-like `k1=v1,k2=v2` lists (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`):
    /// percent-decoded, trimmed; malformed members are skipped with a warning.
    mutating func keyValueList(_ key: String) -> [(String, String)] {
        guard let text = string(key) else { return [] }
        var pairs: [(String, String)] = []
        for member in text.split(separator: ",") {
            let parts = member.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let name = Self.percentDecoded(parts[0].trimmingWhitespace), !name.isEmpty,
                let value = Self.percentDecoded(parts[1].trimmingWhitespace)
            else {
                warn("ignoring a malformed member \"\(member)\" of \(key): expected key=value")
                continue
            }
            pairs.append((name, value))
        }
        return pairs
    }

    static func percentDecoded(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let high = hexValue(utf8.popFirst()!), let low = hexValue(utf8.popFirst()!) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
