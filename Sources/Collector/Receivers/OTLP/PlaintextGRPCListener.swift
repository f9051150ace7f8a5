#if GRPC
import GRPCNIOTransportHTTP2TransportServices
import NIOCore
import NIOPosix

/// The OTLP/gRPC receiver's listening socket: plaintext HTTP/2 over NIOPosix, handed to grpc-swift's
/// `HTTP2ServerTransport.Custom`. The collector serves gRPC without TLS (a `tls` key is rejected at load), and
/// `HTTP2ServerTransport.Posix` links swift-nio-ssl, BoringSSL, swift-certificates and swift-crypto whether TLS starts
/// or not: 1.7–1.8 MiB of resident pages at idle and ~1,500 more protocol-conformance records for every runtime scan
/// at start-up (BENCHMARKS.md, "Start-up and resident memory"). The product this comes from,
/// `GRPCNIOTransportHTTP2TransportServices`, is empty on Linux but for the transport core it re-exports.
struct PlaintextGRPCListener: HTTP2ServerTransport.ListenerFactory {
    let address: GRPCNIOTransportCore.SocketAddress
    let eventLoopGroup: any EventLoopGroup

    init(address: GRPCNIOTransportCore.SocketAddress, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.address = address
        self.eventLoopGroup = eventLoopGroup
    }

    func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let (host, port): (String, Int)
        if let ipv4 = address.ipv4 {
            (host, port) = (ipv4.host, ipv4.port)
        } else if let ipv6 = address.ipv6 {
            (host, port) = (ipv6.host, ipv6.port)
        } else {
            throw PlaintextGRPCListenerError(address: "\(address)")
        }
        return try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in listenerConfigurator.configure(channel: channel) }
            .bind(host: host, port: port) { channel in connectionConfigurator.configure(channel: channel, tls: .none) }
    }
}

/// An address that is not an IP address and port (the receiver resolves every endpoint to one first).
struct PlaintextGRPCListenerError: Error, CustomStringConvertible {
    let address: String
    var description: String { "the gRPC receiver listens on IP addresses only, not \(address)" }
}
#endif
