#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Shared

// MARK: - Timestamps and ids

extension DebugTextBuffer {
    /// Writes Go's `time.Time.String()` of pdata's `Timestamp.AsTime()`, in UTC: `2020-02-11 20:26:13.000000789 +0000 UTC`.
    /// The fraction is the nanoseconds without trailing zeros, left out when zero (`1970-01-01 00:00:00 +0000 UTC`).
    /// Like pdata, the unsigned nanoseconds are read as an `int64`, so values past 2262 come out before 1970.
    mutating func writeTimestamp(_ unixNano: UInt64) {
        let nanoseconds = Int64(bitPattern: unixNano)
        var seconds = nanoseconds / 1_000_000_000
        var fraction = Int(nanoseconds % 1_000_000_000)
        if fraction < 0 {
            fraction += 1_000_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Int64 nanoseconds span 1677 to 2262: the year always has four digits.
        let (year, month, day) = Self.civilDate(daysSince1970: days)
        writeASCII(capacity: 48) { out in
            var length = 0
            func digits(_ value: Int, _ count: Int) {
                var value = value
                for index in stride(from: length + count - 1, through: length, by: -1) {
                    out[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                length += count
            }
            func put(_ byte: Unicode.Scalar) {
                out[length] = UInt8(ascii: byte)
                length += 1
            }
            digits(Int(year), 4)
            put("-")
            digits(month, 2)
            put("-")
            digits(day, 2)
            put(" ")
            digits(secondOfDay / 3600, 2)
            put(":")
            digits(secondOfDay / 60 % 60, 2)
            put(":")
            digits(secondOfDay % 60, 2)
            if fraction != 0 {
                var fractionDigits = 9
                while fraction % 10 == 0 {
                    fraction /= 10
                    fractionDigits -= 1
                }
                put(".")
                digits(fraction, fractionDigits)
            }
            for byte in " +0000 UTC".utf8 {
                out[length] = byte
                length += 1
            }
            return length
        }
    }

    /// Writes `label`, then the timestamp, and ends the line.
    mutating func line(_ label: String, timestamp unixNano: UInt64) {
        write(label)
        writeTimestamp(unixNano)
        newline()
    }

    /// The proleptic Gregorian date of a day count (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Writes a trace or span id as lowercase hex; an all-zero (or empty) id writes nothing, as pdata's `String()`.
    mutating func writeID(_ id: Data) {
        id.withUnsafeBytes { raw in
            guard raw.contains(where: { $0 != 0 }) else { return }
            writeASCII(capacity: raw.count * 2) { out in
                let hexDigits: StaticString = "0123456789abcdef"
                return hexDigits.withUTF8Buffer { hex in
                    for (index, byte) in raw.enumerated() {
                        out[2 * index] = hex[Int(byte >> 4)]
                        out[2 * index + 1] = hex[Int(byte & 0x0F)]
                    }
                    return raw.count * 2
                }
            }
        }
    }
}

extension DebugTextBuffer {
    /// Writes `label`, then the id, and ends the line.
    mutating func line(_ label: String, id: Data) {
        write(label)
        writeID(id)
        newline()
    }
}

// MARK: - Enum words

/// The words pdata's `String()` methods print for OTLP enums; a value they do not know prints as the empty string.
enum DebugTextNames {
    /// `ptrace.SpanKind.String()`.
    static func spanKind(_ kind: OTLPSpan.SpanKind) -> String {
        switch kind {
        case .unspecified: "Unspecified"
        case .internal: "Internal"
        case .server: "Server"
        case .client: "Client"
        case .producer: "Producer"
        case .consumer: "Consumer"
        case .UNRECOGNIZED: ""
        }
    }

    /// `ptrace.StatusCode.String()`.
    static func statusCode(_ code: OTLPStatus.StatusCode) -> String {
        switch code {
        case .unset: "Unset"
        case .ok: "Ok"
        case .error: "Error"
        case .UNRECOGNIZED: ""
        }
    }

    private static let severityNames = [
        "Unspecified",
        "Trace", "Trace2", "Trace3", "Trace4",
        "Debug", "Debug2", "Debug3", "Debug4",
        "Info", "Info2", "Info3", "Info4",
        "Warn", "Warn2", "Warn3", "Warn4",
        "Error", "Error2", "Error3", "Error4",
        "Fatal", "Fatal2", "Fatal3", "Fatal4",
    ]

    /// `plog.SeverityNumber.String()`.
    static func severity(_ number: Opentelemetry_Proto_Logs_V1_SeverityNumber) -> String {
        severityNames.indices.contains(number.rawValue) ? severityNames[number.rawValue] : ""
    }

    /// `pmetric.MetricType.String()` of a metric's data.
    static func metricType(_ data: OTLPMetric.OneOf_Data?) -> String {
        switch data {
        case nil: "Empty"
        case .gauge: "Gauge"
        case .sum: "Sum"
        case .histogram: "Histogram"
        case .exponentialHistogram: "ExponentialHistogram"
        case .summary: "Summary"
        }
    }

    /// `pmetric.AggregationTemporality.String()`.
    static func temporality(_ temporality: Opentelemetry_Proto_Metrics_V1_AggregationTemporality) -> String {
        switch temporality {
        case .unspecified: "Unspecified"
        case .delta: "Delta"
        case .cumulative: "Cumulative"
        case .UNRECOGNIZED: ""
        }
    }
}
