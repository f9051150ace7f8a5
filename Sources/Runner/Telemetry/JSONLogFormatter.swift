import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON number in log metadata (swift-log only has strings): `.stringConvertible(JSONNumber(6.0))`
/// prints `6.0`, not `"6.0"`.
struct JSONNumber: CustomStringConvertible, Sendable {
    var value: Double

    init(_ value: Double) { self.value = value }
    init(_ value: Int) { self.value = Double(value) }

    var description: String {
        // Swift's shortest round-trip form is valid JSON (`6.0`, `2.8125e-07`); JSON has no NaN or infinity.
        value.isFinite ? String(value) : "null"
    }
}

extension Logger.MetadataValue {
    /// A JSON number.
    static func number(_ value: Double) -> Logger.MetadataValue { .stringConvertible(JSONNumber(value)) }
    /// A JSON integer.
    static func integer(_ value: Int) -> Logger.MetadataValue { .stringConvertible(value) }
    /// A JSON boolean.
    static func flag(_ value: Bool) -> Logger.MetadataValue { .stringConvertible(value) }
}

/// One log event as one line of JSON in the lab's shape and Python's spacing:
/// `{"timestamp": "2024-01-15T10:32:00.123Z", "level": "INFO", "message": "Record processed", "id": 1, …}`.
enum JSONLogFormatter {
    /// Field order for the lab's fields; other keys follow alphabetically.
    static let fieldOrder: [String: Int] = Dictionary(
        uniqueKeysWithValues: [
            "service", "endpoint", "total_records", "shard_index", "shard_count", "id", "status", "prediction", "latency_ms", "cost_usd",
            "trace_id", "span_id", "reason", "summary", "successful", "failed", "avg_prediction", "total_latency_ms", "avg_latency_ms",
            "total_cost_usd", "cost_per_record_usd", "cpu_utilization", "memory_used_mb", "job_cost_usd", "cost_per_million_records_usd",
            "cost_efficiency", "records_per_second", "wall_time_ms", "telemetry",
        ].enumerated().map { ($1, $0) })

    static func line(timestampNanos: UInt64, level: Logger.Level, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"timestamp": ""#.utf8)
        appendTimestamp(timestampNanos, to: &out)
        out.append(contentsOf: #"", "level": ""#.utf8)
        out.append(contentsOf: levelName(level).utf8)
        out.append(contentsOf: #"", "message": "#.utf8)
        appendString(message, to: &out)
        for (key, value) in ordered(metadata) {
            out.append(contentsOf: ", ".utf8)
            appendString(key, to: &out)
            out.append(contentsOf: ": ".utf8)
            appendValue(value, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }

    static func ordered(_ metadata: Logger.Metadata) -> [(String, Logger.MetadataValue)] {
        metadata.sorted { lhs, rhs in
            let left = fieldOrder[lhs.key] ?? Int.max
            let right = fieldOrder[rhs.key] ?? Int.max
            return left != right ? left < right : lhs.key < rhs.key
        }
    }

    static func appendValue(_ value: Logger.MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            appendString(text, to: &out)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as JSONNumber: out.append(contentsOf: number.description.utf8)
            case let number as Int: out.append(contentsOf: String(number).utf8)
            case let number as Int64: out.append(contentsOf: String(number).utf8)
            case let number as UInt64: out.append(contentsOf: String(number).utf8)
            case let number as Double: out.append(contentsOf: JSONNumber(number).description.utf8)
            case let flag as Bool: out.append(contentsOf: (flag ? "true" : "false").utf8)
            default: appendString(convertible.description, to: &out)
            }
        case .dictionary(let dictionary):
            out.append(UInt8(ascii: "{"))
            for (index, (key, nested)) in ordered(dictionary).enumerated() {
                if index > 0 { out.append(contentsOf: ", ".utf8) }
                appendString(key, to: &out)
                out.append(contentsOf: ": ".utf8)
                appendValue(nested, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, nested) in values.enumerated() {
                if index > 0 { out.append(contentsOf: ", ".utf8) }
                appendValue(nested, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `2024-01-15T10:32:00.123Z` (UTC, milliseconds).
    static func appendTimestamp(_ nanos: UInt64, to out: inout [UInt8]) {
        var seconds = time_t(nanos / 1_000_000_000)
        let millis = Int(nanos / 1_000_000 % 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var value = value
            for _ in 0..<count {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                value %= divisor
                divisor /= 10
                if divisor == 0 { break }
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        out.append(UInt8(ascii: "."))
        digits(millis, 3)
        out.append(UInt8(ascii: "Z"))
    }
}
