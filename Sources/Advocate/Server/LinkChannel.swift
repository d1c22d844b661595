import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 channel with ``LinkFastPath`` placed right after NIO's HTTP/1 decoder, before the codec that
/// turns NIO's HTTP/1 types into Swift HTTP Types (Hummingbird's own `additionalChannelHandlers` go after that codec).
/// Everything else, and every request not answered on the event loop, is Hummingbird's as before.
struct LinkChannel: HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let links: FastLinks

    var responder: Responder { http1.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(LinkFastPath(links: links), position: .after(decoder.handler))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with plain link requests answered on the event loops (``LinkChannel``).
    static func http1(links: FastLinks) -> HTTPServerBuilder {
        .init { responder in LinkChannel(http1: HTTP1Channel(responder: responder), links: links) }
    }
}
