import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Shared
import SwiftProtobuf
import Synchronization
#if GRPC
import GRPCCore
#endif

/// Sends OTLP requests of one signal to a collector, over OTLP/HTTP
/// (<https://opentelemetry.io/docs/specs/otlp/#otlphttp>: protobuf or JSON POSTs) or OTLP/gRPC
/// (<https://opentelemetry.io/docs/specs/otlp/#otlpgrpc>: unary `Export` calls), with the same rules for both:
/// optional gzip, configured headers, a per-attempt timeout, and retries with exponential backoff and jitter
/// on the retryable answers (HTTP 429/502/503/504; gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
/// UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED with a `RetryInfo`) and connection errors, honouring
/// `Retry-After` / `RetryInfo`, until the batch's deadline. A partial success counts its rejected items as dropped.
///
/// After a batch exhausts its deadline the exporter considers the collector down: later batches get one
/// attempt each (no waiting) until one succeeds, so a job whose collector is gone finishes promptly.
struct OTLPExporter<Payload: SignalPayload>: Sendable {
    /// How the attempts travel.
    enum Transport: Sendable {
        case http(HTTPClient)
        #if GRPC
        case grpc(OTLPGRPCClient)
        #endif
    }

    let transport: Transport
    let configuration: OTLPExporterConfiguration
    let retry: RetryPolicy
    let logger: Logger
    let connection: ConnectionMonitor
    /// Rejected items in a 2xx response's `partial_success`.
    let rejectedItems: @Sendable (Payload.Response) -> Int64
    private let collectorDown = Flag()

    init(
        client: HTTPClient, configuration: OTLPExporterConfiguration, retry: RetryPolicy, logger: Logger,
        connection: ConnectionMonitor, rejectedItems: @escaping @Sendable (Payload.Response) -> Int64
    ) {
        self.init(
            transport: .http(client), configuration: configuration, retry: retry, logger: logger, connection: connection,
            rejectedItems: rejectedItems)
    }

    init(
        transport: Transport, configuration: OTLPExporterConfiguration, retry: RetryPolicy, logger: Logger,
        connection: ConnectionMonitor, rejectedItems: @escaping @Sendable (Payload.Response) -> Int64
    ) {
        self.transport = transport
        self.configuration = configuration
        self.retry = retry
        self.logger = logger
        self.connection = connection
        self.rejectedItems = rejectedItems
    }

    /// The outcome of one attempt.
    enum Attempt: Equatable {
        case success(rejected: Int64)
        case retryable(reason: String, retryAfter: Duration?)
        case permanent(reason: String)
    }

    /// Sends a request already encoded in protobuf (`itemCount` items), as `export(_:itemCount:deadline:)`. Over
    /// OTLP/HTTP protobuf the bytes are the body; OTLP/JSON and gRPC decode them into the message first.
    func export(encoded bytes: ByteBuffer, itemCount: Int, deadline: ContinuousClock.Instant) async -> ExportResult {
        if case .http = transport, configuration.encoding == .protobuf {
            let body: ByteBuffer
            do {
                body = try compress(bytes)
            } catch {
                logger.error("Exporting failed. Dropping data.", metadata: ["reason": "\(error)", "dropped_items": "\(itemCount)"])
                return ExportResult(exported: 0, dropped: itemCount)
            }
            return await deliver(nil, body: body, itemCount: itemCount, deadline: deadline)
        }
        do {
            return await export(try Payload(serializedBytes: Array(bytes.readableBytesView)), itemCount: itemCount, deadline: deadline)
        } catch {
            logger.error("Exporting failed. Dropping data.", metadata: ["reason": "\(error)", "dropped_items": "\(itemCount)"])
            return ExportResult(exported: 0, dropped: itemCount)
        }
    }

    /// Sends `payload` (of `itemCount` items) until it is accepted, permanently refused or `deadline` passes.
    func export(_ payload: Payload, itemCount: Int, deadline: ContinuousClock.Instant) async -> ExportResult {
        let body: ByteBuffer?
        do {
            switch transport {
            case .http: body = try encode(payload)
            #if GRPC
            case .grpc: body = nil  // the gRPC call serializes (and compresses) the message itself
            #endif
            }
        } catch {
            logger.error("Exporting failed. Dropping data.", metadata: ["reason": "\(error)", "dropped_items": "\(itemCount)"])
            return ExportResult(exported: 0, dropped: itemCount)
        }
        return await deliver(payload, body: body, itemCount: itemCount, deadline: deadline)
    }

    /// The attempts: `body` over HTTP, `payload` over gRPC.
    private func deliver(_ payload: Payload?, body: ByteBuffer?, itemCount: Int, deadline: ContinuousClock.Instant) async -> ExportResult {
        let singleAttempt = collectorDown.withLock { $0 }
        var attempt = 0
        while true {
            attempt += 1
            let outcome = await send(payload, body: body, deadline: deadline)
            switch outcome {
            case .success(let rejected):
                let wasDown = collectorDown.withLock { state in
                    defer { state = false }
                    return state
                }
                if wasDown || attempt > 1 {
                    logger.info("Export succeeded after failures", metadata: ["url": "\(configuration.url)", "attempts": "\(attempt)"])
                }
                let dropped = Int(min(Int64(itemCount), max(0, rejected)))
                if rejected > 0 {
                    logger.warning("Partial success response", metadata: ["url": "\(configuration.url)", "rejected_items": "\(rejected)"])
                }
                return ExportResult(exported: itemCount - dropped, dropped: dropped)
            case .permanent(let reason):
                logger.error(
                    "Exporting failed. Dropping data.",
                    metadata: ["error": "not retryable error: \(reason)", "dropped_items": "\(itemCount)"])
                return ExportResult(exported: 0, dropped: itemCount)
            case .retryable(let reason, let retryAfter):
                let wait = retry.delay(attempt: attempt, retryAfter: retryAfter)
                let now = ContinuousClock.now
                if singleAttempt || now.advanced(by: wait) >= deadline {
                    collectorDown.withLock { $0 = true }
                    logger.error(
                        "Exporting failed. Dropping data.",
                        metadata: ["error": "no more retries left: \(reason)", "dropped_items": "\(itemCount)", "attempts": "\(attempt)"])
                    return ExportResult(exported: 0, dropped: itemCount)
                }
                if attempt == 1 {
                    logger.warning(
                        "Exporting failed. Will retry the request after interval.",
                        metadata: ["error": "\(reason)", "interval": "\(wait)", "url": "\(configuration.url)"])
                }
                try? await Task.sleep(until: now.advanced(by: wait), clock: .continuous)
            }
        }
    }

    /// One empty request, to learn whether the collector answers (any HTTP status or gRPC answer counts).
    func probe(timeout: Duration) async -> Bool {
        let empty = Payload()
        let body: ByteBuffer?
        switch transport {
        case .http:
            guard let encoded = try? encode(empty) else { return false }
            body = encoded
        #if GRPC
        case .grpc:
            body = nil
        #endif
        }
        let outcome = await send(empty, body: body, deadline: ContinuousClock.now.advanced(by: timeout))
        if case .retryable(_, nil) = outcome, !connection.isConnected { return false }
        return connection.isConnected
    }

    private func encode(_ payload: Payload) throws -> ByteBuffer {
        let encoded: ByteBuffer
        switch (configuration.encoding, payload) {
        case (.protobuf, let traces as OTLPTracesRequest): encoded = ByteBuffer(bytes: OTLPProtobufEncoder.encode(traces))
        case (.protobuf, let logs as OTLPLogsRequest): encoded = ByteBuffer(bytes: OTLPProtobufEncoder.encode(logs))
        default: encoded = try OTLPCodec.encode(payload, as: configuration.encoding)
        }
        return try compress(encoded)
    }

    private func compress(_ encoded: ByteBuffer) throws -> ByteBuffer {
        configuration.compression == .identity ? encoded : try configuration.compression.encode(encoded)
    }

    private func send(_ payload: Payload?, body: ByteBuffer?, deadline: ContinuousClock.Instant) async -> Attempt {
        let remaining = ContinuousClock.now.duration(to: deadline)
        let attemptTimeout = configuration.timeout == .zero ? remaining : min(configuration.timeout, remaining)
        guard attemptTimeout > .zero else { return .retryable(reason: "deadline exceeded", retryAfter: nil) }
        switch transport {
        case .http(let client):
            return await post(body ?? ByteBuffer(), client: client, timeout: attemptTimeout)
        #if GRPC
        case .grpc(let client):
            return await call(payload ?? Payload(), client: client, timeout: attemptTimeout)
        #endif
        }
    }

    #if GRPC
    // MARK: - gRPC

    private func call(_ payload: Payload, client: OTLPGRPCClient, timeout: Duration) async -> Attempt {
        do {
            let response = try await client.export(
                payload, headers: configuration.headers, gzip: configuration.compression == .gzip, timeout: timeout)
            connection.answered(endpoint: configuration.url)
            return .success(rejected: rejectedItems(response))
        } catch let error as RPCError {
            let (retryable, retryAfter, answered) = OTLPGRPCClient.classify(error)
            if answered { connection.answered(endpoint: configuration.url) }
            let reason = "rpc error: code = \(error.code) desc = \(error.message)"
            return retryable ? .retryable(reason: reason, retryAfter: retryAfter) : .permanent(reason: reason)
        } catch {
            return .retryable(reason: "failed to make a gRPC call: \(error)", retryAfter: nil)
        }
    }
    #endif

    // MARK: - HTTP

    private func post(_ body: ByteBuffer, client: HTTPClient, timeout attemptTimeout: Duration) async -> Attempt {
        var request = HTTPClientRequest(url: configuration.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: configuration.encoding.contentType)
        request.headers.add(name: "User-Agent", value: "OTel-OTLP-Exporter-Swift/batch-runner")
        if let encoding = configuration.compression.headerValue { request.headers.add(name: "Content-Encoding", value: encoding) }
        for header in configuration.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(attemptTimeout.nanoseconds))
            connection.answered(endpoint: configuration.url)
            let responseBody = try await response.body.collect(upTo: 4 * 1024 * 1024)
            let status = Int(response.status.code)
            if (200..<300).contains(status) {
                return .success(rejected: rejected(in: responseBody, contentType: response.headers.first(name: "Content-Type")))
            }
            let reason = "request to \(configuration.url) responded with HTTP Status Code \(status)" + statusMessage(responseBody)
            if RetryPolicy.isRetryable(status: status) {
                let retryAfter = status == 429 || status == 503 ? RetryPolicy.parseRetryAfter(response.headers.first(name: "Retry-After")) : nil
                return .retryable(reason: reason, retryAfter: retryAfter)
            }
            return .permanent(reason: reason)
        } catch {
            return .retryable(reason: "failed to make an HTTP request: \(error)", retryAfter: nil)
        }
    }

    private func rejected(in body: ByteBuffer, contentType: String?) -> Int64 {
        guard body.readableBytes > 0 else { return 0 }
        let bytes = Array(body.readableBytesView)
        let response: Payload.Response?
        switch OTLPEncoding(contentType: contentType) {
        case .protobuf: response = try? Payload.Response(serializedBytes: bytes)
        case .json: response = try? OTLPJSON.decode(Payload.Response.self, from: bytes)
        case nil: response = nil
        }
        return response.map(rejectedItems) ?? 0
    }

    /// `, Message=…` from a protobuf `google.rpc.Status` body, when it decodes.
    private func statusMessage(_ body: ByteBuffer) -> String {
        guard body.readableBytes > 0, let status = try? RPCStatus(serializedBytes: Array(body.readableBytesView)), !status.message.isEmpty else {
            return ""
        }
        return ", Message=\(status.message)"
    }
}

/// Remembers whether the collector has ever answered, and logs `Connected to OTLP collector` the first time.
/// A lock-protected boolean that value types can share.
final class Flag: Sendable {
    private let value = Mutex(false)

    func withLock<T>(_ body: (inout Bool) -> T) -> T { value.withLock { body(&$0) } }
}

final class ConnectionMonitor: Sendable {
    private let connected = Mutex(false)
    private let onFirstAnswer: @Sendable (String) -> Void

    init(onFirstAnswer: @escaping @Sendable (String) -> Void) {
        self.onFirstAnswer = onFirstAnswer
    }

    var isConnected: Bool { connected.withLock { $0 } }

    func answered(endpoint: String) {
        let first = connected.withLock { state in
            defer { state = true }
            return !state
        }
        if first { onFirstAnswer(endpoint) }
    }
}

extension Duration {
    /// The whole duration in nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }
}
