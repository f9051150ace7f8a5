import Foundation
import NIOCore
import Shared
import SwiftProtobuf
import Testing

/// The committed fuzz seed corpus (`Tests/Fuzz/corpus`, see `Tests/Fuzz/README.md`) replayed through the
/// receiver's decoding path with the outcome each seed was made for: fixture seeds decode (their gzip and
/// deflate twins to the same message), bombs stop at their limit, corrupt compressed data is a bad body.
/// Crashes found by fuzzing get their own regression cases here.
@Suite("Fuzz seed corpus")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    /// A seed split as `OTLPFuzz` splits it (only the header values the seeds use).
    struct Seed {
        var name: String
        var encoding: OTLPEncoding
        var compression: ContentEncoding
        var signal: Signal
        var limit: Int
        var body: ByteBuffer

        init(name: String) throws {
            let bytes = try Data(contentsOf: FuzzCorpusTests.corpus.appendingPathComponent(name))
            self.name = name
            encoding = bytes[0] == 0 ? .protobuf : .json
            compression = [0: .identity, 3: .gzip, 4: .deflate][bytes[1]] ?? .identity
            signal = [Signal.traces, .metrics, .logs][Int(bytes[2])]
            limit = [1 << 20, 64 << 10, 100, 8 << 20][Int(bytes[3])]
            body = ByteBuffer(bytes: bytes.dropFirst(4))
        }

        /// The decoded request re-encoded as protobuf, or the rejection.
        func decode() -> Result<[UInt8], OTLPHTTPIngestError> {
            func run<M: OTLPRequest>(_ type: M.Type) -> Result<[UInt8], OTLPHTTPIngestError> {
                Result(catching: { () throws(OTLPHTTPIngestError) -> [UInt8] in
                    let message = try OTLPHTTPIngest.decode(M.self, body: body, encoding: encoding, compression: compression, limit: limit)
                    return try! message.serializedBytes()
                })
            }
            switch signal {
            case .traces: return run(OTLPTracesRequest.self)
            case .metrics: return run(OTLPMetricsRequest.self)
            case .logs: return run(OTLPLogsRequest.self)
            }
        }
    }

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).sorted()
    }

    @Test("the corpus is there and holds fixture and handmade seeds")
    func present() {
        #expect(Self.names.filter { !$0.hasPrefix("hand-") }.count >= 50)
        #expect(Self.names.filter { $0.hasPrefix("hand-") }.count >= 10)
    }

    @Test("every fixture seed decodes; gzip and deflate twins decode to the same message", arguments: names.filter { !$0.hasPrefix("hand-") })
    func fixtureSeeds(name: String) throws {
        let seed = try Seed(name: name)
        let decoded = try seed.decode().get()
        for suffix in ["-gzip", "-deflate"] where name.hasSuffix(suffix) {
            let plain = try Seed(name: String(name.dropLast(suffix.count))).decode().get()
            #expect(decoded == plain)
        }
    }

    @Test(
        "handmade seeds end as they were made to",
        arguments: [
            ("hand-raw-deflate", "ok"), ("hand-gzip-two-members", "ok"), ("hand-empty-protobuf", "ok"), ("hand-json-hex-ids", "ok"),
            ("hand-json-base64-ids", "ok"), ("hand-json-nested-kvlist", "ok"),
            ("hand-gzip-bomb-100b-limit", "tooLarge"), ("hand-deflate-bomb-64k-limit", "tooLarge"),
            ("hand-gzip-truncated", "invalid"), ("hand-gzip-bad-crc", "invalid"), ("hand-deflate-garbage", "invalid"),
            ("hand-deflate-trailing", "invalid"), ("hand-empty-json", "invalid"),
        ])
    func handmadeSeeds(name: String, outcome: String) throws {
        let result = try Seed(name: name).decode()
        switch (result, outcome) {
        case (.success, "ok"), (.failure(.tooLarge), "tooLarge"), (.failure(.invalidBody), "invalid"):
            break
        default:
            Issue.record("\(name): \(result), expected \(outcome)")
        }
    }

    @Test("a gzip of two members decodes to the whole message")
    func twoMembers() throws {
        let joined = try Seed(name: "hand-gzip-two-members").decode().get()
        let whole = try Seed(name: "examples-trace-pb").decode().get()
        #expect(joined == whole)
    }
}
