import CompressNIO
package import NIOCore

/// An HTTP `Content-Encoding` this project reads and writes, over system zlib (compress-nio).
package enum ContentEncoding: String, Sendable, Hashable {
    case identity
    case gzip
    /// HTTP's `deflate` is the zlib format (RFC 1950), as upstream reads it; raw deflate (RFC 1951),
    /// which some clients send instead, is recognised by its missing zlib header and accepted too.
    case deflate

    /// Parses a `Content-Encoding` header: absent, empty and `identity` mean none; `zlib` is an alias
    /// of `deflate` (upstream's name for the same format). Anything else is nil (unsupported).
    package init?(header: String?) {
        switch header?.trimmingASCIIWhitespace.lowercased() {
        case nil, "", "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate", "zlib": self = .deflate
        default: return nil
        }
    }

    /// The header value to send, or nil for identity.
    package var headerValue: String? { self == .identity ? nil : rawValue }

    /// Decompresses `body`, allowing at most `limit` bytes of output: exactly `limit` is fine, one
    /// byte more fails without allocating past about twice the limit (no decompression bomb).
    package func decode(
        _ body: ByteBuffer, limit: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(DecompressionError) -> ByteBuffer {
        switch self {
        case .identity:
            guard body.readableBytes <= limit else { throw .tooLarge(limit: limit) }
            return body
        case .gzip:
            return try Inflater.inflate(body, algorithm: .gzip, limit: limit, allocator: allocator)
        case .deflate:
            let algorithm: ZlibAlgorithm = Inflater.hasZlibHeader(body) ? .zlib : .deflate
            return try Inflater.inflate(body, algorithm: algorithm, limit: limit, allocator: allocator)
        }
    }

    /// Compresses `body` (identity returns it unchanged).
    package func encode(_ body: ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        var input = body
        switch self {
        case .identity: return body
        case .gzip: return try input.compress(with: .gzip(), allocator: allocator)
        case .deflate: return try input.compress(with: .zlib(), allocator: allocator)
        }
    }
}

/// Why a compressed body could not be read.
package enum DecompressionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The decompressed body is over the limit.
    case tooLarge(limit: Int)
    /// The body is not valid data in its encoding (bad header, bad checksum, truncated, empty).
    case corrupt(encoding: ContentEncoding, reason: String)

    package var description: String {
        switch self {
        case .tooLarge(let limit): "decompressed body larger than \(limit) bytes"
        case .corrupt(let encoding, let reason): "invalid \(encoding.rawValue) body: \(reason)"
        }
    }
}

// MARK: - Inflating with a hard output limit

private enum Inflater {
    /// RFC 1950 header: compression method 8 and a header checksum divisible by 31.
    static func hasZlibHeader(_ body: ByteBuffer) -> Bool {
        guard let cmf: UInt8 = body.getInteger(at: body.readerIndex),
              let flg: UInt8 = body.getInteger(at: body.readerIndex + 1)
        else { return false }
        return cmf & 0x0F == 8 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
    }

    static func inflate(
        _ body: ByteBuffer, algorithm: ZlibAlgorithm, limit: Int, allocator: ByteBufferAllocator
    ) throws(DecompressionError) -> ByteBuffer {
        let encoding: ContentEncoding = algorithm == .gzip ? .gzip : .deflate
        func corrupt(_ reason: String) -> DecompressionError { .corrupt(encoding: encoding, reason: reason) }
        guard body.readableBytes > 0 else { throw corrupt("unexpected end of data (empty body)") }

        var input = body
        let decompressor: ZlibDecompressor
        do { decompressor = try ZlibDecompressor(algorithm: algorithm) } catch { throw corrupt("zlib init failed") }
        // Start near the likely size; grow by doubling, never past limit + 1 requested bytes.
        var output = allocator.buffer(capacity: min(limit + 1, max(4096, input.readableBytes * 4)))
        while true {
            do {
                try decompressor.inflate(from: &input, to: &output)
                guard output.readableBytes <= limit else { throw DecompressionError.tooLarge(limit: limit) }
                if input.readableBytes > 0 {
                    // The stream ended with bytes left: gzip allows several members back to back.
                    guard algorithm == .gzip else { throw corrupt("trailing data after the end of the stream") }
                    try decompressor.reset()
                    continue
                }
                // All input consumed. One more call with no input tells a finished stream
                // (Z_STREAM_END again) from a truncated one (no progress: inputBufferOverflow).
                if output.writableBytes == 0 { output.reserveCapacity(output.capacity + 1) }
                try decompressor.inflate(from: &input, to: &output)
                return output
            } catch let error as DecompressionError {
                throw error
            } catch let error as CompressNIOError where error == .bufferOverflow {
                guard output.readableBytes <= limit else { throw .tooLarge(limit: limit) }
                output.reserveCapacity(min(limit + 1, output.capacity * 2))
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw corrupt("unexpected end of data (truncated stream)")
            } catch let error as CompressNIOError where error == .corruptData {
                throw corrupt("corrupt data")
            } catch {
                throw corrupt("\(error)")
            }
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    package var trimmingASCIIWhitespace: Substring { trimming { $0 == " " || $0 == "\t" } }
}

extension StringProtocol {
    /// The text without the leading and trailing characters `isTrimmed` accepts.
    package func trimming(_ isTrimmed: (Character) -> Bool) -> SubSequence {
        var slice = self[...]
        while let first = slice.first, isTrimmed(first) { slice = slice.dropFirst() }
        while let last = slice.last, isTrimmed(last) { slice = slice.dropLast() }
        return slice
    }
}
