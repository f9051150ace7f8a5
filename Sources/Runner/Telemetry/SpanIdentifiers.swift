import Foundation
import Shared
import Synchronization
import Tracing

/// A 16-byte trace id as two big-endian halves.
struct TraceID: Sendable, Hashable {
    var high: UInt64
    var low: UInt64

    var data: Data {
        var bytes = (high.bigEndian, low.bigEndian)
        return withUnsafeBytes(of: &bytes) { Data($0) }
    }

    var hex: String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            HexDigits.write(high, to: buffer, at: 0)
            HexDigits.write(low, to: buffer, at: 16)
            return 32
        }
    }

    /// The 32 hex digits appended to `out` (no `String` in between).
    func appendHex(to out: inout [UInt8]) {
        HexDigits.append(high, to: &out)
        HexDigits.append(low, to: &out)
    }

    func appendHex(to out: inout ByteWriter) {
        out.append(count: 32) { digits in
            let buffer = UnsafeMutableBufferPointer(start: digits, count: 32)
            HexDigits.write(high, to: buffer, at: 0)
            HexDigits.write(low, to: buffer, at: 16)
        }
    }
}

/// An 8-byte span id.
struct SpanID: Sendable, Hashable {
    var value: UInt64

    var data: Data {
        var bytes = value.bigEndian
        return withUnsafeBytes(of: &bytes) { Data($0) }
    }

    var hex: String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            HexDigits.write(value, to: buffer, at: 0)
            return 16
        }
    }

    /// The 16 hex digits appended to `out`.
    func appendHex(to out: inout [UInt8]) {
        HexDigits.append(value, to: &out)
    }

    func appendHex(to out: inout ByteWriter) {
        out.append(count: 16) { HexDigits.write(value, to: UnsafeMutableBufferPointer(start: $0, count: 16), at: 0) }
    }
}

/// Lower-case hex digits of a big-endian `UInt64`, without intermediate arrays.
enum HexDigits {
    @inline(__always)
    static func digit(_ nibble: UInt64) -> UInt8 {
        let value = UInt8(truncatingIfNeeded: nibble & 0xF)
        return value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    static func write(_ value: UInt64, to buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for index in 0..<16 { buffer[offset + index] = digit(value >> UInt64(60 - 4 * index)) }
    }

    static func append(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer in
            write(value, to: buffer, at: 0)
            out.append(contentsOf: buffer)
        }
    }
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
