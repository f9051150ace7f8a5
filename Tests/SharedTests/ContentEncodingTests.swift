import NIOCore
import Shared
import Testing

@Suite("Content-Encoding")
struct ContentEncodingTests {
    private func payload(_ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) })
    }

    @Test("header parsing", arguments: [
        (nil, ContentEncoding.identity), ("", .identity), ("identity", .identity), ("gzip", .gzip), ("GZIP", .gzip),
        ("x-gzip", .gzip), ("deflate", .deflate), ("zlib", .deflate),
    ] as [(String?, ContentEncoding)])
    func headers(_ header: String?, _ expected: ContentEncoding) {
        #expect(ContentEncoding(header: header) == expected)
    }

    @Test("unsupported encodings", arguments: ["br", "zstd", "gzip, deflate", "snappy"])
    func unsupported(_ header: String) {
        #expect(ContentEncoding(header: header) == nil)
    }

    @Test("round trips", arguments: [ContentEncoding.gzip, .deflate, .identity])
    func roundTrip(_ encoding: ContentEncoding) throws {
        let body = payload(100_000)
        let compressed = try encoding.encode(body)
        #expect(try encoding.decode(compressed, limit: 100_000) == body)
    }

    @Test("the limit: exactly the limit decodes, one byte more fails", arguments: [ContentEncoding.gzip, .deflate, .identity])
    func limit(_ encoding: ContentEncoding) throws {
        let compressed = try encoding.encode(payload(10_000))
        #expect(try encoding.decode(compressed, limit: 10_000).readableBytes == 10_000)
        #expect(throws: DecompressionError.tooLarge(limit: 9_999)) { try encoding.decode(compressed, limit: 9_999) }
    }

    @Test("a gzip bomb stops at the limit")
    func bomb() throws {
        let zeros = ByteBuffer(repeating: 0, count: 64 * 1024 * 1024)
        let bomb = try ContentEncoding.gzip.encode(zeros)
        #expect(bomb.readableBytes < 200_000)
        #expect(throws: DecompressionError.tooLarge(limit: 1024 * 1024)) { try ContentEncoding.gzip.decode(bomb, limit: 1024 * 1024) }
    }

    @Test("raw deflate (no zlib header) is accepted for deflate")
    func rawDeflate() throws {
        // "hello" as a raw deflate stream (RFC 1951, fixed Huffman block).
        let raw = ByteBuffer(bytes: [0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        #expect(String(buffer: try ContentEncoding.deflate.decode(raw, limit: 100)) == "hello")
    }

    @Test("several gzip members concatenate")
    func multiMember() throws {
        var both = try ContentEncoding.gzip.encode(ByteBuffer(string: "hello "))
        var second = try ContentEncoding.gzip.encode(ByteBuffer(string: "world"))
        both.writeBuffer(&second)
        #expect(String(buffer: try ContentEncoding.gzip.decode(both, limit: 100)) == "hello world")
    }

    @Test("corrupt, truncated and empty bodies are errors, never crashes")
    func corrupt() throws {
        let good = try ContentEncoding.gzip.encode(payload(5_000))
        let truncated = good.getSlice(at: good.readerIndex, length: good.readableBytes - 10)!
        for encoding in [ContentEncoding.gzip, .deflate] {
            #expect(throws: DecompressionError.self) { try encoding.decode(ByteBuffer(string: "not compressed at all"), limit: 1000) }
            #expect(throws: DecompressionError.self) { try encoding.decode(ByteBuffer(), limit: 1000) }
        }
        #expect(throws: DecompressionError.self) { try ContentEncoding.gzip.decode(truncated, limit: 100_000) }
        var trailing = good
        trailing.writeString("garbage")
        #expect(throws: DecompressionError.self) { try ContentEncoding.gzip.decode(trailing, limit: 100_000) }
    }
}
