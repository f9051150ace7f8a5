import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny OTLP/HTTP endpoint on 127.0.0.1 and a random port: records every request and answers with
/// what `respond` says, so exporter tests can script 503s, 429s with `Retry-After`, and successes.
final class TestHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        var arrival: ContinuousClock.Instant

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    struct Response: Sendable {
        var status: Int = 200
        var headers: [(String, String)] = [("Content-Type", "application/x-protobuf")]
        var body: [UInt8] = [0x0A, 0x00]  // an empty partial_success, as the collector answers
    }

    private let channel: any Channel
    private let store: RequestStore
    let port: Int

    final class RequestStore: Sendable {
        let requests = Mutex<[Request]>([])
    }

    /// `respond(index, request)` decides each answer; index counts from 0.
    init(respond: @escaping @Sendable (Int, Request) -> Response = { _, _ in Response() }) async throws {
        let store = RequestStore()
        self.store = store
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(store: store, respond: respond))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { store.requests.withLock { $0 } }

    func close() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked: NIO calls a handler only on its channel's event loop.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let store: RequestStore
        let respond: @Sendable (Int, Request) -> Response
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(store: RequestStore, respond: @escaping @Sendable (Int, Request) -> Response) {
            self.store = store
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(
                    method: head.method.rawValue, path: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body,
                    arrival: .now)
                let index = store.requests.withLock { requests in
                    requests.append(request)
                    return requests.count - 1
                }
                let response = respond(index, request)
                var headers = HTTPHeaders(response.headers)
                headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: response.status), headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
