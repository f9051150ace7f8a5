import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Shared
import Testing

@testable import Runner

/// The OTLP/HTTP exporter against a scripted local server.
struct ExporterTests {
    static let fastRetry = RetryPolicy(initialBackoff: .milliseconds(40), maxBackoff: .milliseconds(200), multiplier: 2, jitter: 0.2)

    private func withExporter(
        url: String, compression: ContentEncoding = .identity, encoding: OTLPEncoding = .protobuf, headers: [OTLPExporterConfiguration.Header] = [],
        timeout: Duration = .seconds(2),
        _ body: (OTLPExporter<OTLPTracesRequest>) async throws -> Void
    ) async throws {
        var configuration = HTTPClient.Configuration()
        configuration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let exporter = OTLPExporter<OTLPTracesRequest>(
            client: client,
            configuration: OTLPExporterConfiguration(url: url + "/v1/traces", encoding: encoding, headers: headers, compression: compression, timeout: timeout),
            retry: Self.fastRetry, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            connection: ConnectionMonitor { _ in }, rejectedItems: { $0.partialSuccess.rejectedSpans })
        do {
            try await body(exporter)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func request(spans: Int) -> OTLPTracesRequest {
        var scope = OTLPScopeSpans()
        scope.spans = (0..<spans).map { index in
            var span = OTLPSpan()
            span.traceID = Data(repeating: UInt8(index + 1), count: 16)
            span.spanID = Data(repeating: 1, count: 8)
            span.name = "process_record"
            return span
        }
        var resource = OTLPResourceSpans()
        resource.scopeSpans = [scope]
        var request = OTLPTracesRequest()
        request.resourceSpans = [resource]
        return request
    }

    @Test func retriesRetryableStatusesThenSucceeds() async throws {
        let server = try await TestHTTPServer { index, _ in
            [0: TestHTTPServer.Response(status: 503, body: []), 1: .init(status: 429, body: []), 2: .init(status: 502, body: [])][index]
                ?? TestHTTPServer.Response()
        }
        try await withExporter(url: server.url) { exporter in
            let result = await exporter.export(request(spans: 3), itemCount: 3, deadline: .now.advanced(by: .seconds(5)))
            #expect(result == ExportResult(exported: 3, dropped: 0))
        }
        let requests = server.requests
        #expect(requests.count == 4)
        #expect(requests.allSatisfy { $0.path == "/v1/traces" && $0.method == "POST" && $0.header("Content-Type") == "application/x-protobuf" })
        let decoded = try OTLPCodec.decode(OTLPTracesRequest.self, from: ByteBuffer(bytes: requests[3].body), encoding: .protobuf)
        #expect(decoded.itemCount == 3)
        // Backoff grows: the waits are about 40, 80 and 160 ms (±20 %).
        let gaps = zip(requests.dropFirst(), requests).map { BatchJob.milliseconds($1.arrival.duration(to: $0.arrival)) }
        #expect(gaps[0] >= 30 && gaps[1] >= 60 && gaps[2] >= 120)
        await server.close()
    }

    @Test func honoursRetryAfter() async throws {
        let server = try await TestHTTPServer { index, _ in
            index == 0 ? TestHTTPServer.Response(status: 429, headers: [("Retry-After", "1")], body: []) : TestHTTPServer.Response()
        }
        try await withExporter(url: server.url) { exporter in
            let result = await exporter.export(request(spans: 1), itemCount: 1, deadline: .now.advanced(by: .seconds(5)))
            #expect(result.exported == 1)
        }
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests[0].arrival.duration(to: requests[1].arrival) >= .milliseconds(950))
        await server.close()
    }

    @Test(arguments: [400, 401, 404, 413, 500])
    func permanentStatusesAreNotRetried(status: Int) async throws {
        let server = try await TestHTTPServer { _, _ in TestHTTPServer.Response(status: status, body: []) }
        try await withExporter(url: server.url) { exporter in
            let result = await exporter.export(request(spans: 2), itemCount: 2, deadline: .now.advanced(by: .seconds(5)))
            #expect(result == ExportResult(exported: 0, dropped: 2))
        }
        #expect(server.requests.count == 1)
        await server.close()
    }

    @Test func givesUpAtTheDeadlineAndThenTriesOnceWhileDown() async throws {
        let server = try await TestHTTPServer { _, _ in TestHTTPServer.Response(status: 503, body: []) }
        try await withExporter(url: server.url) { exporter in
            let start = ContinuousClock.now
            // The deadline leaves room for the first retry (initial backoff 500 ms + jitter) even when the
            // first attempt is slow on a loaded 2-core machine.
            let result = await exporter.export(request(spans: 5), itemCount: 5, deadline: .now.advanced(by: .milliseconds(1600)))
            #expect(result == ExportResult(exported: 0, dropped: 5))
            // Gave up at the deadline, not after the full backoff schedule (0.5 s, 0.75 s, 1.1 s, … of waiting).
            #expect(start.duration(to: .now) < .milliseconds(3100))
            let attempts = server.requests.count
            #expect(attempts >= 2)  // retried, with backoff, until the deadline
            // The collector is considered down: the next batch gets one attempt and no waiting.
            let second = await exporter.export(request(spans: 1), itemCount: 1, deadline: .now.advanced(by: .seconds(5)))
            #expect(second.dropped == 1)
            #expect(server.requests.count == attempts + 1)
        }
        await server.close()
    }

    @Test func connectionRefusedIsRetriedUntilTheDeadline() async throws {
        let server = try await TestHTTPServer()
        let url = server.url
        await server.close()  // nothing listens there any more
        try await withExporter(url: url) { exporter in
            let start = ContinuousClock.now
            let result = await exporter.export(request(spans: 4), itemCount: 4, deadline: .now.advanced(by: .milliseconds(400)))
            #expect(result == ExportResult(exported: 0, dropped: 4))
            #expect(start.duration(to: .now) < .seconds(2))  // the deadline plus slack for a loaded machine
        }
    }

    @Test func partialSuccessCountsRejectedItemsAsDropped() async throws {
        var response = OTLPTracesResponse()
        response.partialSuccess.rejectedSpans = 2
        response.partialSuccess.errorMessage = "too old"
        let body = Array(try OTLPCodec.encode(response, as: .protobuf).readableBytesView)
        let server = try await TestHTTPServer { _, _ in TestHTTPServer.Response(body: body) }
        try await withExporter(url: server.url) { exporter in
            let result = await exporter.export(request(spans: 5), itemCount: 5, deadline: .now.advanced(by: .seconds(5)))
            #expect(result == ExportResult(exported: 3, dropped: 2))
        }
        await server.close()
    }

    @Test func gzipJSONAndHeaders() async throws {
        let server = try await TestHTTPServer()
        try await withExporter(url: server.url, compression: .gzip, encoding: .json, headers: [.init(name: "api-key", value: "secret")]) { exporter in
            let result = await exporter.export(request(spans: 2), itemCount: 2, deadline: .now.advanced(by: .seconds(5)))
            #expect(result.exported == 2)
        }
        let sent = try #require(server.requests.first)
        #expect(sent.header("Content-Encoding") == "gzip")
        #expect(sent.header("Content-Type") == "application/json")
        #expect(sent.header("api-key") == "secret")
        let json = try ContentEncoding.gzip.decode(.init(bytes: sent.body), limit: 1 << 20)
        let text = String(buffer: json)
        #expect(text.contains(#""traceId":"01010101010101010101010101010101""#))
        await server.close()
    }

    @Test func retryAfterParsing() {
        #expect(RetryPolicy.parseRetryAfter("3") == .seconds(3))
        let now = Date(timeIntervalSince1970: 1_136_214_240)  // Mon, 02 Jan 2006 15:04:00 GMT
        #expect(RetryPolicy.parseRetryAfter("Mon, 02 Jan 2006 15:04:05 GMT", now: now) == .seconds(5))
        #expect(RetryPolicy.parseRetryAfter("soon") == nil)
        #expect(RetryPolicy.parseRetryAfter(nil) == nil)
        #expect(RetryPolicy.parseRetryAfter("Mon, 02 Jan 2006 15:03:05 GMT", now: now) == .zero)  // in the past
    }

    /// The three HTTP-date forms of RFC 9110 §5.6.7, without Foundation's `DateFormatter` (and so without ICU).
    @Test func httpDateForms() {
        let expected = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == expected)
        #expect(HTTPDate.parse("sun, 06 nov 1994 08:49:37 gmt") == expected)
        #expect(HTTPDate.parse("Mon, 2 Jan 2006 15:04:05 GMT") == Date(timeIntervalSince1970: 1_136_214_245))
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 00:00:00 GMT") == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == Date(timeIntervalSince1970: 0))
        for invalid in [
            "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMTx", "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:60 GMT",
            "Sun, 06 Nov 1994 08:49 GMT", "06 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "",
        ] {
            #expect(HTTPDate.parse(Substring(invalid)) == nil, "\(invalid)")
        }
    }

    @Test func backoffIsExponentialCappedAndJittered() {
        let policy = RetryPolicy(initialBackoff: .milliseconds(500), maxBackoff: .seconds(5), multiplier: 1.5, jitter: 0.2)
        #expect(policy.baseDelay(attempt: 1) == .milliseconds(500))
        #expect(policy.baseDelay(attempt: 2) == .milliseconds(750))
        #expect(policy.baseDelay(attempt: 20) == .seconds(5))
        #expect(abs(BatchJob.milliseconds(policy.delay(attempt: 1, retryAfter: nil, random: 0)) - 400) < 1e-6)
        #expect(abs(BatchJob.milliseconds(policy.delay(attempt: 1, retryAfter: nil, random: 1)) - 600) < 1e-6)
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(2), random: 1) == .seconds(2))
        #expect([429, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable) && ![400, 500, 501, 200].contains(where: RetryPolicy.isRetryable))
    }
}
