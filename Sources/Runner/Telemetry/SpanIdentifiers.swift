import Foundation
import Shared
import Synchronization
import Tracing

/// A 16-byte trace id as two big-endian halves.
struct TraceID: Sendable, Hashable {
    var high: UInt64
    var low: UInt64

    var data: Data { Data(Self.bytes(high) + Self.bytes(low)) }
    var hex: String { Hex.encode(Self.bytes(high) + Self.bytes(low)) }

    static func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}

/// An 8-byte span id.
struct SpanID: Sendable, Hashable {
    var value: UInt64

    var data: Data { Data(TraceID.bytes(value)) }
    var hex: String { Hex.encode(TraceID.bytes(value)) }
}

/// The ids of a recorded span, carried in the `InstrumentationContext` so children and logs find them.
struct SpanIdentity: Sendable, Hashable {
    var traceID: TraceID
    var spanID: SpanID
}

/// The context key under which our tracer stores the current span's ids.
enum SpanIdentityKey: InstrumentationContextKey {
    typealias Value = SpanIdentity
    static var nameOverride: String? { "otlp-span-identity" }
}

extension InstrumentationContext {
    /// The ids of the span this context belongs to, if our tracer made it.
    var spanIdentity: SpanIdentity? {
        get { self[SpanIdentityKey.self] }
        set { self[SpanIdentityKey.self] = newValue }
    }
}

/// Random, never-zero trace and span ids from a splitmix64 stream seeded by the system generator:
/// a lock and a few multiplications per id instead of a `getrandom` call.
final class IDGenerator: Sendable {
    private let state: Mutex<UInt64>

    init(seed: UInt64 = UInt64.random(in: .min ... .max)) {
        state = Mutex(seed)
    }

    func traceID() -> TraceID {
        var high: UInt64 = 0
        var low: UInt64 = 0
        while high == 0 && low == 0 {
            (high, low) = state.withLock { state in (Self.next(&state), Self.next(&state)) }
        }
        return TraceID(high: high, low: low)
    }

    func spanID() -> SpanID {
        var value: UInt64 = 0
        while value == 0 { value = state.withLock { Self.next(&$0) } }
        return SpanID(value: value)
    }

    private static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
