import AdvocateCore
import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the connection's peer address, which the
/// sign-in rate limit reads (through ``ClientAddress`` when a trusted proxy is in front).
public struct AdvocateRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's peer.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's address bytes (4 or 16), if it is an IP connection.
    var peerBytes: [UInt8]? {
        guard let remoteAddress else { return nil }
        switch remoteAddress {
        case .v4(let address): return withUnsafeBytes(of: address.address.sin_addr) { Array($0) }
        case .v6(let address): return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        default: return nil
        }
    }

    /// The client's address: the peer, or what `server.forwardedHeader` says when the peer is a trusted proxy
    /// (only that header is read). Used for the moment, never stored.
    func clientAddress(of request: Request, server: ServerConfig) -> [UInt8]? {
        ClientAddress.resolve(
            peer: peerBytes,
            forwardedFor: server.forwardedHeader == .xForwardedFor ? request.headers[.init("X-Forwarded-For")!] : nil,
            forwarded: server.forwardedHeader == .forwarded ? request.headers[.init("Forwarded")!] : nil,
            trusted: server.trustedProxies)
    }
}
