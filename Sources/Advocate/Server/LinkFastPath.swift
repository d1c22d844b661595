import AdvocateCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// What every connection's ``LinkFastPath`` shares.
struct FastLinks: Sendable {
    let handler: LinkHandler
    let server: ServerConfig
    let logger: Logger
    let dates = HTTPDateCache()
}

/// Answers `GET` and `HEAD` on `/s/`, `/l/` and `/t/` links on the connection's event loop, without a task: from
/// the link handler's caches (``LinkHandler/followCached(_:)``), or, when the item, delivery time or language must
/// be read first, after the store's threads read them (``LinkHandler/followReading(_:)``), the answer waiting as for
/// a commit. A click is queued to the click writer and the answer is written once the writer has committed it (an
/// answer that records nothing, such as a bad token's 404, at once), exactly as the router's routes answer (same
/// status, headers and page; ``ResponseGuard`` adds the same security headers, metrics and log line). Any other
/// request goes on to Hummingbird's router unchanged.
///
/// It sits between NIO's HTTP/1 decoder and the codec that turns NIO's HTTP/1 types into Swift HTTP Types for the
/// router (``LinkChannel``): a link's request and answer are never converted (the conversion parses every request's
/// URI with Foundation and checks every header again, about a twentieth of a click's CPU).
///
/// A request is answered here only when no other request is open on its connection. While its lookups are read or its
/// click is being committed, whatever comes after it on the connection (parts of later requests, the end of the input,
/// a parse error, a shutdown's quiesce) waits here in order, so answers keep the order of their requests and a
/// connection is closed only after its answer is out. The next read is let through while an answer waits (holding it
/// would cost NIO two `epoll_ctl` calls per request), but not once anything is held: at most one read's worth waits in
/// memory. Reads also wait while the connection cannot take more output, so a client that does not read its answers
/// cannot make the server buffer them without limit.
final class LinkFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A request answered here.
    private struct Answering: Sendable {
        var hit: FollowHit
        /// The answer and click, when the caches had all they need; else the store's threads read it first.
        var plan: FollowPlan?
        var isHead: Bool
        /// The route, as logs and metrics name it (``AdvocateMetrics/route(of:)``).
        var route: String
        var start: ContinuousClock.Instant
    }

    /// What came in while an answer waited, in the order it came.
    private enum Held {
        case part(HTTPServerRequestPart)
        case event(Any)
        case error(any Error)
    }

    private let links: FastLinks
    /// The request being read, when it is answered here (its head came; its end comes in the same read).
    private var reading: Answering?
    /// Whether the request being read goes on to the router.
    private var passing = false
    /// Requests passed on whose answer has not ended yet.
    private var passedOpen = 0
    /// Whether an answer waits for its lookups or its click's commit.
    private var waiting = false
    private var held = CircularBuffer<Held>()
    /// Whether a read was asked for while one could not be made.
    private var readHeld = false
    /// Whether `held` is being worked through (answers given meanwhile do not start another round).
    private var resuming = false
    /// Whether a request passed on asked to close the connection: the rest is the router's (which ignores it).
    private var closing = false

    init(links: FastLinks) { self.links = links }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        // Also held while the connection cannot take more output: one read may hold thousands of small requests.
        if waiting || !held.isEmpty || !context.channel.isWritable {
            held.append(.part(part))
        } else {
            handle(part, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if waiting || !held.isEmpty {
            held.append(.event(event))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if waiting || !held.isEmpty {
            held.append(.error(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func read(context: ChannelHandlerContext) {
        if !held.isEmpty || !context.channel.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resume(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { passedOpen = max(passedOpen - 1, 0) }
        context.write(data, promise: promise)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if passedOpen == 0, !closing, let answering = answering(head, context: context) {
                reading = answering
            } else {
                passing = true
                passedOpen += 1
                closing = closing || RequestOrigin.field("Connection", in: head.headers) == "close"
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .body:
            // Requests answered here have no body; a stray part goes where the others went.
            if passing || reading == nil { context.fireChannelRead(wrapInboundOut(part)) }
        case .end:
            guard let answering = reading else {
                passing = false
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            reading = nil
            if let plan = answering.plan {
                follow(answering, plan: plan, context: context)
                return
            }
            // The lookups run on the store's threads; the answer waits here, as for a commit.
            waiting = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let (loop, handler) = (context.eventLoop, links.handler)
            handler.database.perform({ _ in try handler.followReading(answering.hit) }) { result in
                loop.execute {
                    let (fast, context) = bound.value
                    switch result {
                    case .success(let plan):
                        fast.follow(answering, plan: plan, context: context)
                    case .failure(let error):
                        fast.waiting = false
                        fast.answer(answering, .failure(error), context: context)
                        fast.resume(context: context)
                    }
                }
            }
        }
    }

    /// Answers with `plan` once its click, if it records one, is committed; then works through what waited.
    private func follow(_ answering: Answering, plan: FollowPlan, context: ChannelHandlerContext) {
        guard let click = plan.click else {
            let waited = waiting
            waiting = false
            answer(answering, .success(plan), context: context)
            if waited { resume(context: context) }
            return
        }
        waiting = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        links.handler.recorder.enqueue(click, on: context.eventLoop) { result in
            if case .failure = result { plan.failed?() }
            let (fast, context) = bound.value
            fast.waiting = false
            fast.answer(answering, result.map { plan }, context: context)
            fast.resume(context: context)
        }
    }

    /// Works through what was held, in order, until an answer waits again or the connection cannot take more
    /// output; then, once nothing is held, lets a held read through.
    private func resume(context: ChannelHandlerContext) {
        guard !resuming else { return }
        resuming = true
        defer { resuming = false }
        var passedOn = false
        while !waiting, context.channel.isWritable, let next = held.popFirst() {
            switch next {
            case .part(let part):
                passedOn = passedOn || passing || reading == nil
                handle(part, context: context)
            case .event(let event):
                context.fireUserInboundEventTriggered(event)
            case .error(let error):
                context.fireErrorCaught(error)
            }
        }
        if passedOn { context.fireChannelReadComplete() }
        if readHeld && held.isEmpty && context.channel.isWritable {
            readHeld = false
            context.read()
        }
    }

    /// The answer to a link request read on this connection: its plan, or a 500 when its lookups or its click
    /// failed.
    private func answer(
        _ answering: Answering, _ outcome: Result<FollowPlan, any Error>, context: ChannelHandlerContext
    ) {
        var head: HTTPResponseHead
        var body: ByteBuffer?
        switch outcome {
        case .failure(let failure):
            links.logger.error(
                "\(answering.hit.method) \(answering.route) failed: \(failure)")
            head = HTTPResponseHead(version: .http1_1, status: .internalServerError)
        case .success(let plan):
            AdvocateMetrics.fastAnswer()
            head = plan.answer.http1Head(isHead: answering.isHead)
            if !answering.isHead, let html = plan.answer.html { body = context.channel.allocator.buffer(string: html) }
        }
        // In the router's order: Hummingbird's response adds its length before the middleware's headers.
        head.headers.add(name: "Content-Length", value: body.map { String($0.readableBytes) } ?? "0")
        ResponseGuard.secure(&head.headers)
        head.headers.add(name: "Date", value: links.dates.now)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        ResponseGuard.account(
            method: answering.hit.method, route: answering.route, status: Int(head.status.code), since: answering.start,
            logger: links.logger)
    }

    /// The request as one answered here, when it is a plain `GET` or `HEAD` of a link.
    private func answering(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> Answering? {
        let start = ContinuousClock.now
        // No body (its end comes with its head), no `Connection` or `Expect` header: anything else is the router's.
        // (HTTP/1.0 is answered as the router answers it: as HTTP/1.1, the connection left open.)
        let isHead = head.method == .HEAD
        let headers = head.headers
        let path = head.uri
        guard isHead || head.method == .GET, path.utf8.count <= ResponseGuard.maxURILength,
            let (kind, token) = Self.link(in: path), !headers.contains(name: "Connection"),
            !headers.contains(name: "Expect"), !headers.contains(name: "Transfer-Encoding"),
            headers["Content-Length"].allSatisfy({ $0 == "0" })
        else { return nil }
        let peer = RequestOrigin.bytes(of: context.channel.remoteAddress)
        let field = { (name: String) in RequestOrigin.field(name, in: headers) }
        let hit = FollowHit(
            text: token, kind: kind, method: isHead ? "HEAD" : "GET", userAgent: field("User-Agent"),
            client: RequestOrigin.client(peer: peer, field: field, server: links.server),
            requestID: RequestOrigin.requestID(peer: peer, field: field, server: links.server))
        let route: String
        switch kind {
        case .share: route = Self.shareRoute
        case .visit: route = Self.visitRoute
        case .trap: route = Self.trapRoute
        case .unsubscribe, .invite, .preferences, .stopInvitations: return nil
        }
        return Answering(hit: hit, plan: links.handler.followCached(hit), isHead: isHead, route: route, start: start)
    }

    private static let shareRoute = AdvocateMetrics.route(of: "/s/")
    private static let visitRoute = AdvocateMetrics.route(of: "/l/")
    private static let trapRoute = AdvocateMetrics.route(of: "/t/")

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
        guard !token.isEmpty, token.allSatisfy(Base64URL.isAlphabet) else { return nil }
        return (kind, String(Substring(token)))
    }
}

/// The `Date` header, made once a second (RFC 9110's IMF-fixdate).
final class HTTPDateCache: Sendable {
    private let cached = Mutex<(second: Int, value: String)>((-1, ""))

    /// The current moment as an HTTP date.
    var now: String {
        let second = Int(Date().timeIntervalSince1970)
        return cached.withLock { cached in
            if cached.second != second { cached = (second, Self.format(second)) }
            return cached.value
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
