#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// HTTP-dates (RFC 9110 §5.6.7) without Foundation's `DateFormatter`, which would link ICU and its 30 MB of data
/// into the static binaries. `parse` (the runner's `Retry-After`) reads the IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`
/// and the two obsolete forms recipients must also accept, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime
/// `Sun Nov  6 08:49:37 1994`; day and month names are matched without regard to case, and the weekday is not checked
/// against the date. `format` (the collector's `Date` header) writes the IMF-fixdate, as Go's net/http does.
package enum HTTPDate {
    package static func parse(_ text: Substring) -> Date? {
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

    /// The IMF-fixdate of `date`'s second, in GMT.
    package static func format(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let time = seconds - days * 86_400
        let weekday = ((days % 7) + 7 + 3) % 7  // 1970-01-01 was a Thursday; Monday is 0
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(names(weekdays[weekday])), \(two(day)) \(names(months[month - 1])) \(year) "
            + "\(two(time / 3_600)):\(two(time / 60 % 60)):\(two(time % 60)) GMT"
    }

    private static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let longWeekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `mon` → `Mon`.
    private static func names(_ lowercase: String) -> String { lowercase.prefix(1).uppercased() + lowercase.dropFirst() }

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

    /// The proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
