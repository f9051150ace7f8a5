import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import NIOCore
import Shared
import SwiftProtobuf
import Testing

@testable import Collector

@Suite("OTLP/HTTP receiver")
struct OTLPHTTPReceiverTests {
    static let limit = 64 * 1024

    private func app(traces: any Consumer<PipelineData<OTLPTracesRequest>>) -> some ApplicationProtocol {
        let routes: [String: OTLPHTTPReceiver.SignalRoute] = [
            "/v1/traces": .make(OTLPTracesRequest.self, consumer: traces, logger: .init(label: "test"))
        ]
        return application(serving: OTLPHTTPReceiver.Responder(routes: routes, maxBodySize: Self.limit))
    }

    private func post(
        _ app: some ApplicationProtocol, path: String = "/v1/traces", method: HTTPRequest.Method = .post,
        headers: HTTPFields, body: ByteBuffer
    ) async throws -> (HTTPResponse.Status, HTTPFields, ByteBuffer) {
        try await app.test(.router) { client in
            try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
                (response.status, response.headers, response.body)
            }
        }
    }

    private var protobufBody: ByteBuffer { get throws { try OTLPCodec.encode(makeTraces(3), as: .protobuf) } }

    @Test("protobuf in, 200 with an empty partial_success, the pipeline gets every span")
    func protobuf() async throws {
        let sink = SinkConsumer<PipelineData<OTLPTracesRequest>>()
        let (status, headers, body) = try await post(app(traces: sink), headers: [.contentType: "application/x-protobuf"], body: try protobufBody)
        #expect(status == .ok)
        #expect(headers[.contentType] == "application/x-protobuf")
        #expect(Array(buffer: body) == [0x0A, 0x00])
        #expect(sink.itemCount == 3)
    }

    @Test("JSON in (with charset), gzip and deflate bodies", arguments: [ContentEncoding.identity, .gzip, .deflate])
    func json(_ encoding: ContentEncoding) async throws {
        let sink = SinkConsumer<PipelineData<OTLPTracesRequest>>()
        let body = try encoding.encode(try OTLPCodec.encode(makeTraces(2), as: .json))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let value = encoding.headerValue { headers[.contentEncoding] = value }
        let (status, responseHeaders, response) = try await post(app(traces: sink), headers: headers, body: body)
        #expect(status == .ok)
        #expect(responseHeaders[.contentType] == "application/json")
        #expect(String(buffer: response) == #"{"partialSuccess":{}}"#)
        #expect(try sink.payloads.first?.request().resourceSpans[0].scopeSpans[0].spans.map(\.name) == ["span0", "span1"])
    }

    @Test("the success bodies are the encoded success responses of all three signals", arguments: [OTLPEncoding.protobuf, .json])
    func successBodies(_ encoding: OTLPEncoding) throws {
        let body = OTLPHTTPResponses.successBody(encoding)
        #expect(try OTLPCodec.encode(OTLPTracesRequest.successResponse, as: encoding) == body)
        #expect(try OTLPCodec.encode(OTLPMetricsRequest.successResponse, as: encoding) == body)
        #expect(try OTLPCodec.encode(OTLPLogsRequest.successResponse, as: encoding) == body)
    }

    @Test("a request with no items is answered 200 without calling the pipeline")
    func empty() async throws {
        let sink = SinkConsumer<PipelineData<OTLPTracesRequest>>()
        let (status, _, _) = try await post(app(traces: sink), headers: [.contentType: "application/x-protobuf"], body: ByteBuffer())
        #expect(status == .ok)
        let (jsonStatus, _, _) = try await post(app(traces: sink), headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
        #expect(jsonStatus == .ok)
        #expect(sink.payloads.isEmpty)
    }

    @Test("errors: 404, 405, 415 as plain text, upstream's wording")
    func plainErrors() async throws {
        let app = app(traces: SinkConsumer())
        let json: HTTPFields = [.contentType: "application/json"]
        let (notFound, notFoundHeaders, notFoundBody) = try await post(app, path: "/v1/metrics", headers: json, body: ByteBuffer(string: "{}"))
        #expect(notFound == .notFound)
        #expect(notFoundHeaders[.contentType] == "text/plain; charset=utf-8")
        #expect(String(buffer: notFoundBody) == "404 page not found\n")
        let (trailing, _, _) = try await post(app, path: "/v1/traces/", headers: json, body: ByteBuffer(string: "{}"))
        #expect(trailing == .notFound)
        let (method, _, methodBody) = try await post(app, method: .get, headers: json, body: ByteBuffer())
        #expect(method == .methodNotAllowed)
        #expect(String(buffer: methodBody) == "405 method not allowed, supported: [POST]")
        let (media, _, mediaBody) = try await post(app, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "{}"))
        #expect(media == .unsupportedMediaType)
        #expect(String(buffer: mediaBody) == "415 unsupported media type, supported: [application/json, application/x-protobuf]")
        let (missing, _, _) = try await post(app, headers: [:], body: ByteBuffer(string: "{}"))
        #expect(missing == .unsupportedMediaType)
    }

    @Test("errors: 400 with a google.rpc.Status in the request's encoding")
    func badRequests() async throws {
        let sink = SinkConsumer<PipelineData<OTLPTracesRequest>>()
        let app = app(traces: sink)
        let (status, headers, body) = try await post(app, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{not json"))
        #expect(status == .badRequest)
        #expect(headers[.contentType] == "application/json")
        let decoded = try OTLPJSON.decode(RPCStatus.self, from: Array(buffer: body))
        #expect(decoded.code == 3)
        #expect(decoded.message.hasPrefix("failed to unmarshal JSON request"))

        let (pbStatus, pbHeaders, pbBody) = try await post(
            app, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: [0x0A, 0xFF, 0xFF]))
        #expect(pbStatus == .badRequest)
        #expect(pbHeaders[.contentType] == "application/x-protobuf")
        #expect(try RPCStatus(serializedBytes: Array(buffer: pbBody)).code == 3)

        let (encoding, _, encodingBody) = try await post(
            app, headers: [.contentType: "application/json", .contentEncoding: "br"], body: ByteBuffer(string: "{}"))
        #expect(encoding == .badRequest)
        #expect(try OTLPJSON.decode(RPCStatus.self, from: Array(buffer: encodingBody)).message == "unsupported Content-Encoding: br")

        let (corrupt, _, _) = try await post(
            app, headers: [.contentType: "application/json", .contentEncoding: "gzip"], body: ByteBuffer(string: "plain"))
        #expect(corrupt == .badRequest)
        #expect(sink.payloads.isEmpty)
    }

    @Test("413 when the body, or the body after decompression, is over max_request_body_size")
    func tooLarge() async throws {
        let sink = SinkConsumer<PipelineData<OTLPTracesRequest>>()
        let app = app(traces: sink)
        let big = ByteBuffer(repeating: UInt8(ascii: " "), count: Self.limit + 1)
        let (raw, _, rawBody) = try await post(app, headers: [.contentType: "application/json"], body: big)
        #expect(raw == .contentTooLarge)
        #expect(try OTLPJSON.decode(RPCStatus.self, from: Array(buffer: rawBody)).code == 3)
        let bomb = try ContentEncoding.gzip.encode(big)
        #expect(bomb.readableBytes < Self.limit)
        let (inflated, _, _) = try await post(app, headers: [.contentType: "application/json", .contentEncoding: "gzip"], body: bomb)
        #expect(inflated == .contentTooLarge)
        let exact = ByteBuffer(repeating: UInt8(ascii: " "), count: Self.limit - 2)
        var exactJSON = ByteBuffer(string: "{")
        exactJSON.writeImmutableBuffer(exact)
        exactJSON.writeString("}")
        let (fits, _, _) = try await post(app, headers: [.contentType: "application/json"], body: exactJSON)
        #expect(fits == .ok)
    }

    @Test("a downstream refusal is 503 with Retry-After and status 14; a permanent error 500 and status 13")
    func downstreamErrors() async throws {
        let refusing = app(traces: FailingConsumer(error: .refused("data refused due to high memory usage", retryAfter: .seconds(2))))
        let (status, headers, body) = try await post(refusing, headers: [.contentType: "application/x-protobuf"], body: try protobufBody)
        #expect(status == .serviceUnavailable)
        #expect(headers[.retryAfter] == "2")
        let decoded = try RPCStatus(serializedBytes: Array(buffer: body))
        #expect(decoded.code == 14)
        #expect(decoded.message == "data refused due to high memory usage")

        let failing = app(traces: FailingConsumer(error: .permanent("broken")))
        let (permanent, _, permanentBody) = try await post(failing, headers: [.contentType: "application/json"], body: try OTLPCodec.encode(makeTraces(1), as: .json))
        #expect(permanent == .internalServerError)
        #expect(try OTLPJSON.decode(RPCStatus.self, from: Array(buffer: permanentBody)).code == 13)
    }
}
