import Foundation
import Testing

@testable import Collector

@Suite("The Date header")
struct HTTPDateTests {
    @Test("IMF-fixdate in GMT, as Go's net/http writes it", arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (1_700_000_000.9, "Tue, 14 Nov 2023 22:13:20 GMT"),
        (1_796_413_153.0, "Fri, 04 Dec 2026 19:39:13 GMT"),
    ])
    func format(_ seconds: Double, _ expected: String) {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
