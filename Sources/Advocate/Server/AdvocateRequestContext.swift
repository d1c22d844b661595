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

    /// The trusted reverse proxy's id of this request (`X-Request-ID`, nginx's `$request_id`): 8–64 letters, digits,
    /// `-`, `_` or `.`. Read only from a peer in `server.trustedProxies`; anyone else could replay an id to make a
    /// real click disappear.
    func proxyRequestID(of request: Request, server: ServerConfig) -> String? {
        guard let peer = peerBytes, server.trustedProxies.admits(peer),
            let id = request.headers[.init("X-Request-ID")!], (8...64).contains(id.utf8.count),
            id.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E
            })
        else { return nil }
        return id
    }
}
