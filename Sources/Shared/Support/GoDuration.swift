/// Go's duration syntax (`300ms`, `1.5h`, `1m30s`; units ns, us/µs, ms, s, m, h), as upstream configs
/// write durations. A bare `0` is zero; other bare numbers are rejected rather than read as
/// nanoseconds, the trap upstream's decoder sets (reference §0).
package enum GoDuration {
    package static func parse(_ text: String) -> Duration? {
        var s = Substring(text.trimmingASCIIWhitespace)
        var negative = false
        if s.first == "-" || s.first == "+" {
            negative = s.first == "-"
            s.removeFirst()
        }
        if s == "0" { return .zero }
        guard !s.isEmpty else { return nil }
        var totalNanoseconds: Double = 0
        while !s.isEmpty {
            let number = s.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            s = s.dropFirst(number.count)
            let unit = s.prefix { !$0.isNumber && $0 != "." }
            s = s.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            totalNanoseconds += value * scale
        }
        guard totalNanoseconds < 9.2e18 else { return nil }
        let nanos = Int64(totalNanoseconds.rounded())
        return .nanoseconds(negative ? -nanos : nanos)
    }

    /// Go's `String()` form: `1h2m3.5s`, `200ms`, `0s`.
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        var nanos = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanos == 0 { return "0s" }
        var sign = ""
        if nanos < 0 { sign = "-"; nanos = -nanos }
        if nanos < 1_000 { return "\(sign)\(nanos)ns" }
        if nanos < 1_000_000 { return sign + trimmed(Double(nanos) / 1e3) + "µs" }
        if nanos < 1_000_000_000 { return sign + trimmed(Double(nanos) / 1e6) + "ms" }
        var out = sign
        let hours = nanos / 3_600_000_000_000
        nanos %= 3_600_000_000_000
        let minutes = nanos / 60_000_000_000
        nanos %= 60_000_000_000
        if hours > 0 { out += "\(hours)h" }
        if hours > 0 || minutes > 0 { out += "\(minutes)m" }
        let wholeSeconds = nanos / 1_000_000_000
        let fraction = nanos % 1_000_000_000
        out += "\(wholeSeconds)"
        if fraction > 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 9 - digits.count) + digits
            while digits.last == "0" { digits.removeLast() }
            out += "." + digits
        }
        return out + "s"
    }

    private static func trimmed(_ value: Double) -> String {
        var text = String(value)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}
