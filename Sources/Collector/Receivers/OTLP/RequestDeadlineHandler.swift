import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow to send a request: `read_header_timeout` bounds the
/// time from the connection opening to a complete request head, `read_timeout` the time from the head
/// to the end of the body. Together with Hummingbird's idle timeout (which closes a kept-alive
/// connection with no complete request part for `idle_timeout`), a client sending a byte now and then
/// cannot hold a connection, and with it a slot of `max_concurrent_connections`, forever.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let readHeaderTimeout: TimeAmount?
    private let readTimeout: TimeAmount?
    private var deadline: Scheduled<Void>?

    init(readHeaderTimeout: Duration?, readTimeout: Duration?) {
        self.readHeaderTimeout = readHeaderTimeout.map(TimeAmount.init)
        self.readTimeout = readTimeout.map(TimeAmount.init)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(readHeaderTimeout, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(readHeaderTimeout, context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(readTimeout, context: context)
        case .end: disarm()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    /// Replaces any running deadline with one `timeout` from now (none when `timeout` is nil).
    private func arm(_ timeout: TimeAmount?, context: ChannelHandlerContext) {
        disarm()
        guard let timeout else { return }
        let channel = context.channel
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
