#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Exponential backoff with jitter for OTLP exports
/// (<https://opentelemetry.io/docs/specs/otlp/#otlphttp-throttling>): retry 429, 502, 503, 504 and
/// connection failures; wait at least `Retry-After` when the server sends one.
struct RetryPolicy: Sendable, Equatable {
    var initialBackoff: Duration = .milliseconds(500)
    var maxBackoff: Duration = .seconds(5)
    var multiplier: Double = 1.5
    /// The delay is drawn from `delay × [1 − jitter, 1 + jitter]`.
    var jitter: Double = 0.2

    /// The statuses worth retrying.
    static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 502 || status == 503 || status == 504
    }

    /// The un-jittered delay before retry `attempt` (1 = the first retry).
    func baseDelay(attempt: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(attempt, 1) {
            delay = delay * multiplier
            if delay >= maxBackoff { return maxBackoff }
        }
        return min(delay, maxBackoff)
    }

    /// The jittered delay before retry `attempt`, at least `retryAfter` when the server asked for it.
    func delay(attempt: Int, retryAfter: Duration?, random: Double = Double.random(in: 0...1)) -> Duration {
        let factor = 1 - jitter + 2 * jitter * random
        let jittered = baseDelay(attempt: attempt) * factor
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    /// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), relative to `now`.
    static func parseRetryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingWhitespace, !value.isEmpty else { return nil }
        if let seconds = Int(value) { return seconds >= 0 ? .seconds(seconds) : nil }
        guard let date = HTTPDate.parse(value) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return .milliseconds(Int64(max(0, seconds) * 1000))
    }
}

/// An HTTP-date (RFC 9110 §5.6.7), parsed without Foundation's `DateFormatter` (which would link ICU and its
/// 30 MB data into the static runner): the IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT` and the two obsolete forms
/// recipients must also accept, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`.
/// Day and month names are matched without regard to case; the weekday is not checked against the date.
enum HTTPDate {
    static func parse(_ text: Substring) -> Date? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = fields.first else { return nil }
        let day: Substring, month: Substring, year: Substring, time: Substring
        if first.hasSuffix(",") {
            let weekday = first.dropLast().lowercased()
            guard weekdays.contains(weekday) || longWeekdays.contains(weekday) else { return nil }
            if fields.count == 6 {  // IMF-fixdate
                guard isGMT(fields[5]) else { return nil }
                (day, month, year, time) = (fields[1], fields[2], fields[3], fields[4])
                guard year.count == 4 else { return nil }
            } else if fields.count == 4 {  // RFC 850
                guard isGMT(fields[3]) else { return nil }
                let parts = fields[1].split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count == 3, parts[2].count == 2 else { return nil }
                (day, month, year, time) = (parts[0], parts[1], parts[2], fields[2])
            } else {
                return nil
            }
        } else {  // asctime
            guard fields.count == 5, weekdays.contains(first.lowercased()), fields[4].count == 4 else { return nil }
            (day, month, year, time) = (fields[2], fields[1], fields[4], fields[3])
        }
        guard let monthIndex = months.firstIndex(of: month.lowercased()), var yearValue = number(year, digits: 2...4),
            let dayValue = number(day, digits: 1...2)
        else { return nil }
        if year.count == 2 { yearValue += yearValue < 70 ? 2000 : 1900 }
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, let hour = number(clock[0], digits: 2...2), let minute = number(clock[1], digits: 2...2),
            let second = number(clock[2], digits: 2...2), hour < 24, minute < 60, second < 60
        else { return nil }
        guard dayValue >= 1, dayValue <= daysIn(month: monthIndex + 1, year: yearValue) else { return nil }
        let days = daysSinceEpoch(year: yearValue, month: monthIndex + 1, day: dayValue)
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3_600 + minute * 60 + second))
    }

    private static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let longWeekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func isGMT(_ zone: Substring) -> Bool { zone.lowercased() == "gmt" }

    private static func number(_ text: Substring, digits: ClosedRange<Int>) -> Int? {
        guard digits.contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
