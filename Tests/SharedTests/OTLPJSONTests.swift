import Foundation
import NIOCore
import Shared
import SwiftProtobuf
import Testing

@Suite("OTLP/JSON codec")
struct OTLPJSONTests {
    private func decodeTraces(_ json: String) throws -> OTLPTracesRequest {
        try OTLPCodec.decode(OTLPTracesRequest.self, from: ByteBuffer(string: json), encoding: .json)
    }

    private func span(traceID: String, spanID: String = "eee19b7ec3c1b174", extra: String = "") -> String {
        #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"\#(traceID)","spanId":"\#(spanID)","name":"op","kind":2\#(extra)}]}]}]}"#
    }

    @Test("hex ids decode to their bytes, in either case")
    func hexIDs() throws {
        let lower = try decodeTraces(span(traceID: "5b8efff798038103d269b633813fc60c"))
        let upper = try decodeTraces(span(traceID: "5B8EFFF798038103D269B633813FC60C", spanID: "EEE19B7EC3C1B174"))
        let s = lower.resourceSpans[0].scopeSpans[0].spans[0]
        #expect(Hex.encode(s.traceID) == "5b8efff798038103d269b633813fc60c")
        #expect(Hex.encode(s.spanID) == "eee19b7ec3c1b174")
        #expect(upper.resourceSpans[0].scopeSpans[0].spans[0].traceID == s.traceID)
        #expect(upper.resourceSpans[0].scopeSpans[0].spans[0].spanID == s.spanID)
        #expect(s.kind == .server)
    }

    @Test("base64 ids of exactly 16/8 bytes are accepted (swift-otel 1.6 sends them)")
    func base64IDs() throws {
        let trace = Data((1...16).map { UInt8($0) })
        let spanBytes = Data((1...8).map { UInt8($0) })
        let request = try decodeTraces(span(traceID: trace.base64EncodedString(), spanID: spanBytes.base64EncodedString()))
        let s = request.resourceSpans[0].scopeSpans[0].spans[0]
        #expect(s.traceID == trace)
        #expect(s.spanID == spanBytes)
    }

    @Test("an empty id means no id")
    func emptyID() throws {
        let request = try decodeTraces(span(traceID: "", spanID: ""))
        #expect(request.resourceSpans[0].scopeSpans[0].spans[0].traceID.isEmpty)
    }

    @Test("ids of the wrong length or not hex are rejected", arguments: [
        "abc", "5b8efff798038103d269b633813fc6", "5b8efff798038103d269b633813fc60c00",
        "zz8efff798038103d269b633813fc60c", "5b8efff798038103d269b633813fc60g",
    ])
    func badTraceIDs(_ id: String) {
        #expect(throws: OTLPDecodingError.self) { try decodeTraces(span(traceID: id)) }
    }

    @Test("a span id of trace-id length is rejected")
    func spanIDLength() {
        #expect(throws: OTLPDecodingError.self) {
            try decodeTraces(span(traceID: "5b8efff798038103d269b633813fc60c", spanID: "5b8efff798038103d269b633813fc60c"))
        }
    }

    @Test("snake_case keys, 64-bit integers as numbers or strings, enum names, unknown fields")
    func lenientDecoding() throws {
        let json = #"""
            {"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"5b8efff798038103d269b633813fc60c",
             "span_id":"eee19b7ec3c1b174","name":"op","kind":"SPAN_KIND_CLIENT",
             "start_time_unix_nano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
             "somethingNew":{"x":1}}]}]}],"extra":true}
            """#
        let s = try decodeTraces(json).resourceSpans[0].scopeSpans[0].spans[0]
        #expect(s.kind == .client)
        #expect(s.startTimeUnixNano == 1_544_712_660_000_000_000)
        #expect(s.endTimeUnixNano == 1_544_712_661_000_000_000)
    }

    @Test("malformed JSON is a decoding error")
    func malformed() {
        #expect(throws: OTLPDecodingError.self) { try decodeTraces("{\"resourceSpans\":") }
        #expect(throws: OTLPDecodingError.self) { try decodeTraces("") }
        #expect(throws: OTLPDecodingError.self) { try decodeTraces(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":[]}]}]}]}"#) }
    }

    @Test("an unknown enum name is an error, as upstream's; after an unknown field it is left unset")
    func unknownEnumName() throws {
        #expect(throws: OTLPDecodingError.self) {
            try decodeTraces(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","kind":"NOPE"}]}]}]}"#)
        }
        #expect(throws: OTLPDecodingError.self) {
            try decodeTraces(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","kind":"NOPE","new":1}]}]}]}"#)
        }
        let s = try decodeTraces(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","new":1,"kind":"NOPE"}]}]}]}"#)
            .resourceSpans[0].scopeSpans[0].spans[0]
        #expect(s.name == "x")
        #expect(s.kind == .unspecified)
    }

    @Test("encoding writes lowercase hex ids, integer enums and 64-bit integers as strings")
    func encoding() throws {
        var request = OTLPTracesRequest()
        var span = OTLPSpan()
        span.traceID = Data((0..<16).map { UInt8($0 * 17) })
        span.spanID = Data((0..<8).map { UInt8(255 - $0) })
        span.name = "op"
        span.kind = .server
        span.startTimeUnixNano = 1_544_712_660_000_000_000
        var scope = OTLPScopeSpans()
        scope.spans = [span]
        var resource = OTLPResourceSpans()
        resource.scopeSpans = [scope]
        request.resourceSpans = [resource]

        let json = String(buffer: try OTLPCodec.encode(request, as: .json))
        #expect(json.contains(#""traceId":"00112233445566778899aabbccddeeff""#))
        #expect(json.contains(#""spanId":"fffefdfcfbfaf9f8""#))
        #expect(json.contains(#""kind":2"#))
        #expect(json.contains(#""startTimeUnixNano":"1544712660000000000""#))
        let back = try OTLPCodec.decode(OTLPTracesRequest.self, from: ByteBuffer(string: json), encoding: .json)
        #expect(back == request)
    }

    @Test("protobuf ids of a wrong non-zero length are rejected")
    func protobufIDLength() throws {
        var span = OTLPSpan()
        span.traceID = Data([1, 2, 3])
        var scope = OTLPScopeSpans()
        scope.spans = [span]
        var resource = OTLPResourceSpans()
        resource.scopeSpans = [scope]
        var request = OTLPTracesRequest()
        request.resourceSpans = [resource]
        let body = try OTLPCodec.encode(request, as: .protobuf)
        #expect(throws: OTLPDecodingError.self) { try OTLPCodec.decode(OTLPTracesRequest.self, from: body, encoding: .protobuf) }
    }

    @Test("success responses carry an empty partial_success, as upstream")
    func successResponses() throws {
        #expect(Array(buffer: try OTLPCodec.encode(OTLPTracesRequest.successResponse, as: .protobuf)) == [0x0A, 0x00])
        #expect(String(buffer: try OTLPCodec.encode(OTLPLogsRequest.successResponse, as: .json)) == #"{"partialSuccess":{}}"#)
    }

    @Test("a google.rpc.Status with RetryInfo round-trips")
    func status() throws {
        let status = RPCStatus(code: .unavailable, message: "data refused", retryAfterSeconds: 3)
        let json = String(buffer: try OTLPCodec.encode(status, as: .json))
        #expect(json.hasPrefix(#"{"code":14,"message":"data refused""#))
        let back = try RPCStatus(serializedBytes: Array(buffer: try OTLPCodec.encode(status, as: .protobuf)))
        #expect(back.code == 14)
        #expect(try RPCRetryInfo(unpackingAny: back.details[0]).retryDelay.seconds == 3)
    }
}

@Suite("Content-Type negotiation")
struct OTLPEncodingTests {
    @Test(arguments: [
        ("application/x-protobuf", OTLPEncoding.protobuf), ("application/json", .json),
        ("application/json; charset=utf-8", .json), ("Application/JSON", .json), ("application/x-protobuf;x=y", .protobuf),
    ])
    func supported(_ header: String, _ expected: OTLPEncoding) {
        #expect(OTLPEncoding(contentType: header) == expected)
    }

    @Test(arguments: ["application/protobuf", "text/plain", "application/octet-stream", ""])
    func unsupported(_ header: String) {
        #expect(OTLPEncoding(contentType: header) == nil)
        #expect(OTLPEncoding(contentType: nil) == nil)
    }
}
