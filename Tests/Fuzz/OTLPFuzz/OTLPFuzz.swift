import NIOCore
import Shared

// A libFuzzer target over the OTLP/HTTP receiver's untrusted decoding path (`OTLPHTTPIngest`), the code that
// request bytes reach before the pipeline: header negotiation, decompression with a limit, protobuf/JSON decoding
// with id checks, then the encoders run on whatever decoded (the debug exporter and clients re-encode it).
// Protobuf bodies also go through `OTLPWireScanner`, which the receiver uses instead of decoding: it must give
// the decoder's answer exactly (the same rejection text, or success with the message's counts).
//
// Input layout (see `FuzzInput`): 4 header bytes, then the body.
//   byte 0: Content-Type choice     byte 1: Content-Encoding choice
//   byte 2: signal (traces/metrics/logs)   byte 3: decompressed-size limit choice
//
// Built two ways (scripts/fuzz.sh, Tests/Fuzz/README.md):
// - with `-DOTLP_FUZZ` and the fuzzer sanitizer, it exports `LLVMFuzzerTestOneInput` and libFuzzer supplies `main`;
// - in the package's normal build it is a replay tool: `OTLPFuzz <file or directory>…` runs every input once,
//   so the committed corpus and any crash file can be re-run without the sanitizer toolchain.

/// One fuzz input, split into the choices the receiver gets from headers and the body.
struct FuzzInput {
    static let contentTypes: [String?] = [
        "application/x-protobuf", "application/json", "application/json; charset=utf-8", "APPLICATION/X-PROTOBUF ; x=y",
        nil, "", "text/plain", "application/protobuf",
    ]
    static let contentEncodings: [String?] = [nil, "", "identity", "gzip", "deflate", "zlib", "x-gzip", "br", " GZIP ", "gzip, deflate"]
    static let limits = [1 << 20, 64 << 10, 100, 8 << 20]

    var contentType: String?
    var contentEncoding: String?
    var signal: Signal
    var limit: Int
    var body: ByteBuffer

    init(_ bytes: UnsafeRawBufferPointer) {
        func choice(_ index: Int) -> Int { index < bytes.count ? Int(bytes[index]) : 0 }
        contentType = Self.contentTypes[choice(0) % Self.contentTypes.count]
        contentEncoding = Self.contentEncodings[choice(1) % Self.contentEncodings.count]
        signal = [Signal.traces, .metrics, .logs][choice(2) % 3]
        limit = Self.limits[choice(3) % Self.limits.count]
        body = ByteBuffer(bytes: bytes.count > 4 ? UnsafeRawBufferPointer(rebasing: bytes[4...]) : UnsafeRawBufferPointer(start: nil, count: 0))
    }
}

/// Runs one input through negotiation, decoding and re-encoding. Anything may be rejected; nothing may crash,
/// and what we encoded ourselves must decode again.
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    let input = FuzzInput(bytes)
    let encoding: OTLPEncoding
    let compression: ContentEncoding
    do {
        (encoding, compression) = try OTLPHTTPIngest.negotiate(contentType: input.contentType, contentEncoding: input.contentEncoding)
    } catch {
        return
    }
    switch input.signal {
    case .traces: roundTrip(OTLPTracesRequest.self, input, encoding, compression)
    case .metrics: roundTrip(OTLPMetricsRequest.self, input, encoding, compression)
    case .logs: roundTrip(OTLPLogsRequest.self, input, encoding, compression)
    }
}

private func roundTrip<M: SignalPayload>(_ type: M.Type, _ input: FuzzInput, _ encoding: OTLPEncoding, _ compression: ContentEncoding) {
    if encoding == .protobuf, let plain = try? OTLPHTTPIngest.decompress(input.body, compression: compression, limit: input.limit) {
        compareScanner(M.self, plain)
    }
    let message: M
    do {
        message = try OTLPHTTPIngest.decode(M.self, body: input.body, encoding: encoding, compression: compression, limit: input.limit)
    } catch {
        // Rejections must be well-formed and carry their reason (the receiver sends it back).
        precondition(!error.description.isEmpty, "empty rejection reason")
        return
    }
    // What decoded must encode in both formats, and our own encoding must decode again.
    for format in [OTLPEncoding.protobuf, .json] {
        let encoded: ByteBuffer
        do {
            encoded = try OTLPCodec.encode(message, as: format)
        } catch {
            preconditionFailure("a decoded \(M.self) does not encode as \(format): \(error)")
        }
        do {
            _ = try OTLPCodec.decode(M.self, from: encoded, encoding: format)
        } catch {
            preconditionFailure("our own \(format) encoding of a \(M.self) does not decode: \(error)")
        }
        // The compressed forms the exporter sends must decode too (within the input's limit).
        if format == .protobuf, encoded.readableBytes <= 64 << 10, let gzip = try? ContentEncoding.gzip.encode(encoded) {
            do {
                _ = try OTLPHTTPIngest.decode(M.self, body: gzip, encoding: .protobuf, compression: .gzip, limit: 64 << 10)
            } catch {
                preconditionFailure("our own gzip of a \(M.self) does not decode: \(error)")
            }
        }
    }
}

/// The wire scanner and the decoder agree on `plain`: both reject it with the same text, or both accept it
/// and the scanner's counts are the message's.
func compareScanner<M: SignalPayload>(_ type: M.Type, _ plain: ByteBuffer) {
    let scanned = Result { () throws(OTLPHTTPIngestError) in try OTLPHTTPIngest.scan(M.self, plain) }
    let decoded = Result { () throws(OTLPHTTPIngestError) in try OTLPHTTPIngest.decodeMessage(M.self, from: plain, encoding: .protobuf) }
    switch (scanned, decoded) {
    case (.success(let counts), .success(let message)):
        let expected = OTLPWireCounts(resources: message.resourceCount, items: message.itemCount, metrics: message.metricCount)
        precondition(counts == expected, "scanner counted \(counts), the decoded \(M.self) holds \(expected)")
    case (.failure(let scanError), .failure(let decodeError)):
        precondition(scanError == decodeError, "scanner: \(scanError); decoder: \(decodeError)")
    case (.success(let counts), .failure(let decodeError)):
        preconditionFailure("scanner accepted (\(counts)) what the decoder rejects: \(decodeError)")
    case (.failure(let scanError), .success):
        preconditionFailure("scanner rejected what the decoder accepts: \(scanError)")
    }
}

#if OTLP_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
import Foundation

/// Replay mode: every file named (or found in a named directory) is run once.
@main
enum OTLPFuzzReplay {
    static func main() {
        var paths: [String] = []
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(argument)\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                paths += names.sorted().map { argument + "/" + $0 }
            } else {
                paths.append(argument)
            }
        }
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: OTLPFuzz <input file or directory>…  (replays fuzz inputs)\n".utf8))
            exit(2)
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            data.withUnsafeBytes { fuzzOne($0) }
        }
        print("replayed \(paths.count) input(s) without a crash")
    }
}
#endif
