import AdvocateCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// What every connection's ``LinkFastPath`` shares.
struct FastLinks: Sendable {
    let handler: LinkHandler
    let server: ServerConfig
    let logger: Logger
    let dates = HTTPDateCache()
}

/// Answers `GET` and `HEAD` on `/s/`, `/l/` and `/t/` links on the connection's event loop, without a task, when the
/// link handler has all it needs in memory (``LinkHandler/followCached(_:)``): the click is queued to the click
/// writer and the answer is written once the writer has committed it, exactly as the router's routes answer (same
/// status, headers and page; ``ResponseGuard`` adds the same security headers, metrics and log line). Any other
/// request, and a link whose item, delivery time or language must first be read from the store, goes on to
/// Hummingbird's router unchanged.
///
/// A request is answered here only when no other request is open on its connection, and parts that come while its
/// click is being committed wait here (and so does the next read), so answers keep the order of their requests.
/// A server shutting down closes the connection only after that answer is out.
final class LinkFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A request answered here.
    private struct Answering: Sendable {
        var plan: FollowPlan
        var method: HTTPRequest.Method
        var path: String
        var start: ContinuousClock.Instant
    }

    private let links: FastLinks
    /// The request being read, when it is answered here.
    private var reading: Answering?
    /// Whether the request being read goes on to the router.
    private var passing = false
    /// Requests passed on whose answer has not ended yet.
    private var passedOpen = 0
    /// Whether an answer waits for its click's commit; meanwhile parts, a read and a quiesce are held.
    private var waiting = false
    private var held: [HTTPRequestPart] = []
    private var readHeld = false
    private var quiesceHeld = false

    init(links: FastLinks) { self.links = links }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if waiting {
            held.append(part)
        } else {
            handle(part, context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if waiting {
            readHeld = true
        } else {
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { passedOpen = max(passedOpen - 1, 0) }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent && (waiting || reading != nil) {
            quiesceHeld = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if passedOpen == 0, let answering = answering(head, context: context) {
                reading = answering
            } else {
                passing = true
                passedOpen += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .body:
            // The body of a link request answered here is read and dropped, as the router's route does.
            if passing { context.fireChannelRead(wrapInboundOut(part)) }
        case .end:
            guard let answering = reading else {
                passing = false
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            reading = nil
            guard let click = answering.plan.click else {
                answer(answering, failure: nil, context: context)
                return
            }
            waiting = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            links.handler.recorder.enqueue(click, on: context.eventLoop) { result in
                let (handler, context) = bound.value
                handler.waiting = false
                if case .failure(let error) = result {
                    handler.answer(answering, failure: error, context: context)
                } else {
                    handler.answer(answering, failure: nil, context: context)
                }
            }
        }
    }

    /// The answer to a link request read on this connection (`failure`: its click could not be committed), then
    /// what was held while it waited.
    private func answer(_ answering: Answering, failure: (any Error)?, context: ChannelHandlerContext) {
        var response: Response
        var body: ByteBuffer?
        if let failure {
            links.logger.error(
                "\(answering.method.rawValue) \(AdvocateMetrics.route(of: answering.path)) failed: \(failure)")
            response = Response(status: .internalServerError)
        } else {
            AdvocateMetrics.fastAnswer()
            let isHead = answering.method == .head
            response = answering.plan.answer.response(isHead: isHead)
            if !isHead, let html = answering.plan.answer.html { body = ByteBuffer(string: html) }
        }
        ResponseGuard.secure(&response.headers)
        response.headers[.contentLength] = String(body?.readableBytes ?? 0)
        response.headers[.date] = links.dates.now
        context.write(wrapOutboundOut(.head(response.head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        ResponseGuard.account(
            method: answering.method, path: answering.path, status: response.status.code, since: answering.start,
            logger: links.logger)
        guard !held.isEmpty || readHeld || quiesceHeld else { return }
        var passedAny = false
        while !waiting, !held.isEmpty {
            let part = held.removeFirst()
            passedAny = passedAny || passing || reading == nil
            handle(part, context: context)
        }
        if passedAny { context.fireChannelReadComplete() }
        guard !waiting else { return }
        if readHeld {
            readHeld = false
            context.read()
        }
        if quiesceHeld && reading == nil {
            quiesceHeld = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// The request as one answered here, when it is a plain `GET` or `HEAD` of a link with nothing to read first.
    private func answering(_ head: HTTPRequest, context: ChannelHandlerContext) -> Answering? {
        let start = ContinuousClock.now
        guard head.method == .get || head.method == .head, let path = head.path,
            path.utf8.count <= ResponseGuard.maxURILength, head.headerFields[.connection] == nil,
            let (kind, token) = Self.link(in: path)
        else { return nil }
        let peer = RequestOrigin.bytes(of: context.channel.remoteAddress)
        let hit = FollowHit(
            text: token, kind: kind, method: head.method.rawValue, userAgent: head.headerFields[.userAgent],
            client: RequestOrigin.client(peer: peer, headers: head.headerFields, server: links.server),
            requestID: RequestOrigin.requestID(peer: peer, headers: head.headerFields, server: links.server))
        guard let plan = links.handler.followCached(hit) else { return nil }
        return Answering(plan: plan, method: head.method, path: path, start: start)
    }

    /// The kind and token of a path `/s/TOKEN`, `/l/TOKEN` or `/t/TOKEN` whose token is all base64url characters
    /// (anything else, a query or an escape included, is the router's).
    static func link(in path: String) -> (LinkToken.Kind, String)? {
        let kind: LinkToken.Kind
        if path.hasPrefix("/s/") {
            kind = .share
        } else if path.hasPrefix("/l/") {
            kind = .visit
        } else if path.hasPrefix("/t/") {
            kind = .trap
        } else {
            return nil
        }
        let token = path.utf8.dropFirst(3)
        guard !token.isEmpty,
            token.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F
            })
        else { return nil }
        return (kind, String(Substring(token)))
    }
}

/// The `Date` header's value, made once a second (RFC 9110's IMF-fixdate).
final class HTTPDateCache: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    /// The current moment as an HTTP date.
    var now: String {
        let second = Int(Date().timeIntervalSince1970)
        return cached.withLock { cached in
            if cached.second != second { cached = (second, Self.format(second)) }
            return cached.text
        }
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since 1970 as `Wed, 02 Dec 2026 04:16:50 GMT`.
    static func format(_ second: Int) -> String {
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
