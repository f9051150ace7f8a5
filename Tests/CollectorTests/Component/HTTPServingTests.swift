import Foundation
import Shared
import Testing

@testable import Collector

@Suite("The Date header")
struct HTTPDateTests {
    @Test("IMF-fixdate in GMT, as Go's net/http writes it", arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (1_700_000_000.9, "Tue, 14 Nov 2023 22:13:20 GMT"),
        (1_796_413_153.0, "Fri, 04 Dec 2026 19:39:13 GMT"),
        (951_782_400.0, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (-1.0, "Wed, 31 Dec 1969 23:59:59 GMT"),
    ])
    func format(_ seconds: Double, _ expected: String) {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("what format writes, parse reads back (every day of a leap year and its neighbours)")
    func roundTrip() {
        for day in stride(from: 10_956, to: 11_700, by: 1) {  // 1999-12-31 … 2002-01-13
            let date = Date(timeIntervalSince1970: Double(day * 86_400 + 45_296))
            #expect(HTTPDate.parse(Substring(HTTPDate.format(date))) == date, "\(HTTPDate.format(date))")
        }
    }

    @Test("the header's text is made once a second")
    func oncePerSecond() {
        let header = HTTPDateHeader()
        #expect(header.text(at: Date(timeIntervalSince1970: 100.2)) == "Thu, 01 Jan 1970 00:01:40 GMT")
        #expect(header.text(at: Date(timeIntervalSince1970: 100.9)) == "Thu, 01 Jan 1970 00:01:40 GMT")
        #expect(header.text(at: Date(timeIntervalSince1970: 101.0)) == "Thu, 01 Jan 1970 00:01:41 GMT")
    }
}
