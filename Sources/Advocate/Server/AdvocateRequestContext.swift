import AdvocateCore
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

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
    var peerBytes: [UInt8]? { RequestOrigin.bytes(of: remoteAddress) }

    /// The client's address: the peer, or what `server.forwardedHeader` says when the peer is a trusted proxy
    /// (only that header is read). Used for the moment, never stored.
    func clientAddress(of request: Request, server: ServerConfig) -> [UInt8]? {
        RequestOrigin.client(peer: peerBytes, headers: request.headers, server: server)
    }

    /// The trusted reverse proxy's id of this request; see ``RequestOrigin/requestID(peer:headers:server:)``.
    func proxyRequestID(of request: Request, server: ServerConfig) -> String? {
        RequestOrigin.requestID(peer: peerBytes, headers: request.headers, server: server)
    }
}

/// Where a request comes from, for the router's requests and the event loops' fast path alike.
enum RequestOrigin {
    /// The address bytes (4 or 16) of an IP peer.
    static func bytes(of address: SocketAddress?) -> [UInt8]? {
        guard let address else { return nil }
        switch address {
        case .v4(let address): return withUnsafeBytes(of: address.address.sin_addr) { Array($0) }
        case .v6(let address): return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        default: return nil
        }
    }

    /// The client's address: the peer, or what `server.forwardedHeader` says when the peer is a trusted proxy
    /// (only that header is read). Used for the moment, never stored.
    static func client(peer: [UInt8]?, headers: HTTPFields, server: ServerConfig) -> [UInt8]? {
        client(peer: peer, field: { headers[HTTPField.Name($0)!] }, server: server)
    }

    /// As ``client(peer:headers:server:)``, reading a header's value (its lines joined by `, `) with `field`.
    static func client(peer: [UInt8]?, field: (String) -> String?, server: ServerConfig) -> [UInt8]? {
        ClientAddress.resolve(
            peer: peer,
            forwardedFor: server.forwardedHeader == .xForwardedFor ? field("X-Forwarded-For") : nil,
            forwarded: server.forwardedHeader == .forwarded ? field("Forwarded") : nil,
            trusted: server.trustedProxies)
    }

    /// The trusted reverse proxy's id of this request (`X-Request-ID`, nginx's `$request_id`): 8–64 letters, digits,
    /// `-`, `_` or `.`. Read only from a peer in `server.trustedProxies`; anyone else could replay an id to make a
    /// real click disappear.
    static func requestID(peer: [UInt8]?, headers: HTTPFields, server: ServerConfig) -> String? {
        requestID(peer: peer, field: { headers[HTTPField.Name($0)!] }, server: server)
    }

    /// As ``requestID(peer:headers:server:)``, reading a header's value (its lines joined by `, `) with `field`.
    static func requestID(peer: [UInt8]?, field: (String) -> String?, server: ServerConfig) -> String? {
        guard let peer, server.trustedProxies.admits(peer),
            let id = field("X-Request-ID"), (8...64).contains(id.utf8.count),
            id.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E
            })
        else { return nil }
        return id
    }

    /// The value of header `name` in NIO's HTTP/1 headers as Swift HTTP Types gives it: its lines joined by `, `,
    /// or nil without one.
    static func field(_ name: String, in headers: HTTPHeaders) -> String? {
        let values = headers[name]
        return values.isEmpty ? nil : values.count == 1 ? values[0] : values.joined(separator: ", ")
    }
}
