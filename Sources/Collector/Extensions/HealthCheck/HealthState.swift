#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Whether the collector is serving: set to ready once every pipeline runs, back to not ready the
/// moment shutdown begins (before any receiver stops), as upstream's service notifies extensions.
final class HealthState: Sendable {
    private let readySince = Mutex<Date?>(nil)

    var isReady: Bool { readySince.withLock { $0 != nil } }
    var upSince: Date? { readySince.withLock { $0 } }

    func markReady(at date: Date = Date()) {
        readySince.withLock { if $0 == nil { $0 = date } }
    }

    func markNotReady() {
        readySince.withLock { $0 = nil }
    }
}
