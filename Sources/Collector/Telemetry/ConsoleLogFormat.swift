#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The collector's console log layout, as upstream's zap console encoder writes it (reference §6.3):
/// `<time>\t<level>\t<message>\t<fields as JSON>`, time in UTC with milliseconds
/// (`2024-01-15T10:32:00.600Z`), fields as `{"key": value, ...}` with `": "` and `", "` separators.
enum ConsoleLogFormat {
    /// A field value: JSON string or number.
    enum Value: Sendable, Equatable {
        case string(String)
        case int(Int)
        case double(Double)
        case bool(Bool)
    }

    static func line(time: Date = Date(), level: String, message: String, fields: [(String, Value)]) -> String {
        var out = timestamp(time)
        out += "\t"
        out += level
        out += "\t"
        out += message
        if !fields.isEmpty {
            out += "\t"
            out += json(fields)
        }
        out += "\n"
        return out
    }

    static func json(_ fields: [(String, Value)]) -> String {
        var out = "{"
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { out += ", " }
            out += quoted(key)
            out += ": "
            switch value {
            case .string(let s): out += quoted(s)
            case .int(let i): out += String(i)
            case .double(let d): out += d.isFinite ? String(d) : quoted(String(d))
            case .bool(let b): out += b ? "true" : "false"
            }
        }
        return out + "}"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `2024-01-15T10:32:00.600Z`
    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis % 1000), 3))Z"
    }
}
