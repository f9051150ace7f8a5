#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Shared

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
