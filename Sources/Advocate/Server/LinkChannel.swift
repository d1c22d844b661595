import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1
import Synchronization

/// Hummingbird's HTTP/1 channel with ``LinkFastPath`` placed right before the codec that turns NIO's HTTP/1 types
/// into Swift HTTP Types (Hummingbird's own `additionalChannelHandlers` go after that codec). Everything else, and
/// every request not answered on the event loop, is Hummingbird's as before.
struct LinkChannel: HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let links: FastLinks

    var responder: Responder { http1.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            guard let codec = try? pipeline.context(handlerType: HTTP1ToHTTPServerCodec.self) else {
                // A Hummingbird that builds its pipeline otherwise: the router answers links too, as it can.
                let first = Self.warned.withLock { warned in
                    defer { warned = true }
                    return !warned
                }
                if first {
                    links.logger.error("links are answered by the router: no HTTP/1 codec in the connection's pipeline")
                }
                return value
            }
            try pipeline.addHandler(LinkFastPath(links: links), position: .before(codec.handler))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }

    private static let warned = Mutex(false)
}

extension HTTPServerBuilder {
    /// HTTP/1 with plain link requests answered on the event loops (``LinkChannel``).
    static func http1(links: FastLinks) -> HTTPServerBuilder {
        .init { responder in LinkChannel(http1: HTTP1Channel(responder: responder), links: links) }
    }
}
