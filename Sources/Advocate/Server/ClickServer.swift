import AdvocateCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle

/// The click server's parts: the HTTP application and the click writer it commits to. Tests drive
/// ``application`` in-process (Hummingbird's test client, which skips ``LinkFastPath``: `LinkFastPathTests` runs a
/// real process); ``buildServer`` runs both in a service group.
public struct ClickServer: Sendable {
    /// The Hummingbird application.
    public let application: Application<RouterResponder<AdvocateRequestContext>>
    /// The group-commit click writer; ``ClickRecorder/shutdown()`` flushes it.
    public let recorder: ClickRecorder
    let membership: MembershipHandler

    /// Waits until the work started after answers is done: sign-up follow-ups and the mails they queued.
    public func settle() async { await membership.settle() }
}

/// Builds the click server's routes over `database`: `/s/`, `/l/`, `/t/` links, `/u/` unsubscribe, `/admin` when
/// a token is configured, and `/healthz`.
public func buildApplication(
    context: AppContext, database: AppDatabase, logger: Logger, metrics: PrometheusCollectorRegistry? = nil,
    onRunning: @escaping @Sendable (Int) -> Void = { _ in }
) throws -> ClickServer {
    let recorder = ClickRecorder(database: database, logger: logger)
    // Sign-ups that expired unconfirmed go when a server starts (and with every digest run).
    do {
        let purged = try database.purgeExpiredSignups(now: context.now())
        if purged > 0 { logger.info("deleted \(purged) sign-up(s) that expired unconfirmed") }
    } catch {
        logger.error("expired sign-ups could not be deleted: \(error)")
    }
    let pages = try PageRenderer.load(directory: context.config.resolve(context.config.templatesDirectory))
    let sealer = LinkSealer(keyring: try context.secrets.linkKeys())
    let handler = LinkHandler(
        context: context, database: database, recorder: recorder, pages: pages, sealer: sealer, logger: logger)
    let router = Router(context: AdvocateRequestContext.self)
    router.add(middleware: GuardMiddleware(logger: logger))
    router.get("/healthz") { _, _ in "ok" }
    addMetricsRoute(to: router, registry: metrics, adminToken: try context.secrets.checkedAdminToken())
    let server = context.config.server
    for (prefix, kind) in [("s", LinkToken.Kind.share), ("l", .visit), ("t", .trap)] {
        let follow: @Sendable (Request, AdvocateRequestContext) async throws -> Response = { request, requestContext in
            let token = try requestContext.parameters.require("token")
            let client = requestContext.clientAddress(of: request, server: server)
            let answer = try await handler.follow(
                token, kind: kind, method: request.method.rawValue, userAgent: request.headers[.userAgent],
                client: client, requestID: requestContext.proxyRequestID(of: request, server: server))
            return answer.response(isHead: request.method == .head)
        }
        router.get("/\(prefix)/:token", use: follow)
        router.head("/\(prefix)/:token", use: follow)
    }
    router.post("/s/:token/pressed") { request, requestContext in
        try await handler.pressed(
            try requestContext.parameters.require("token"),
            fetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!]
        ).response(isHead: false)
    }
    router.get("/u/:token") { _, requestContext in
        try await handler.unsubscribePage(try requestContext.parameters.require("token")).response(isHead: false)
    }
    router.post("/u/:token") { request, requestContext in
        let body = try await request.body.collect(upTo: 4_096)
        let form = UnsubscribeForm.decode(
            body: Array(buffer: body), contentType: request.headers[.contentType])
        return try await handler.unsubscribe(try requestContext.parameters.require("token"), form: form)
            .response(isHead: false)
    }
    let membership = try addMembershipRoutes(
        to: router, context: context, database: database, pages: pages, sealer: sealer, logger: logger)
    do {
        try addEditorRoutes(
            to: router, context: context, database: database, transport: membership.mails.transport, logger: logger)
    } catch {
        // Links and unsubscribes must keep working: templates from an older version miss the editor's pages.
        logger.error("the editor and dashboard at /admin are off: \(error)")
    }
    let host = context.config.server.host
    // Plain link requests are answered on the event loops (see ``LinkFastPath``; a store read first when the caches
    // miss); everything else goes through the router above. No idle timeout: the loops' answers do not reach the
    // bookkeeping of Hummingbird's connection handler, which would close a connection that asks only for links.
    let fast = FastLinks(handler: handler, server: server, logger: logger)
    let application = Application(
        router: router,
        server: .http1(links: fast),
        configuration: .init(address: .hostname(host, port: context.config.server.port), serverName: nil),
        onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    return ClickServer(application: application, recorder: recorder, membership: membership)
}

/// Builds `advocate serve`: the application and the click writer, in one service group that drains in-flight
/// requests and then flushes pending clicks on SIGTERM or SIGINT.
public func buildServer(
    context: AppContext, database: AppDatabase, logger: Logger, metrics: PrometheusCollectorRegistry? = nil,
    onRunning: @escaping @Sendable (Int) -> Void = { _ in }
) throws -> ServiceGroup {
    let server = try buildApplication(
        context: context, database: database, logger: logger, metrics: metrics, onRunning: onRunning)
    return ServiceGroup(
        configuration: .init(
            services: [.init(service: ClickRecorderService(server: server)), .init(service: server.application)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
}

/// Keeps the click writer alive while the server runs; after the server has drained, lets the sign-up follow-ups
/// and their mails finish and flushes the clicks.
struct ClickRecorderService: Service {
    let server: ClickServer

    func run() async throws {
        try? await gracefulShutdown()
        await server.settle()
        server.recorder.shutdown()
    }
}

extension PageResponse {
    /// The Hummingbird response.
    var response: Response {
        var fields: HTTPFields = [.cacheControl: "no-store", .contentType: contentType]
        for (name, value) in headers { if let field = HTTPField.Name(name) { fields[field] = value } }
        return Response(
            status: .init(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

extension LinkResponse {
    /// The Hummingbird response, with the headers every answer of this server carries.
    func response(isHead: Bool) -> Response {
        let head = head(isHead: isHead)
        guard let html, !isHead else { return Response(status: head.status, headers: head.headerFields) }
        return Response(
            status: head.status, headers: head.headerFields, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// The response's status and headers (the event loops' fast path writes its body itself).
    func head(isHead: Bool) -> HTTPResponse {
        // Appended in order (each name once), the fixed ones made once.
        var headers = HTTPFields()
        headers.reserveCapacity(8)
        headers.append(Self.noStore)
        if let location { headers.append(HTTPField(name: .location, value: location)) }
        if let contentSecurityPolicy {
            headers.append(HTTPField(name: .contentSecurityPolicy, value: contentSecurityPolicy))
        }
        if html != nil, !isHead { headers.append(Self.htmlType) }
        return HTTPResponse(status: .init(code: status), headerFields: headers)
    }

    /// The same status and headers in NIO's HTTP/1 types, for the event loops' fast path (``LinkFastPath``).
    func http1Head(isHead: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        headers.add(name: Self.noStore.name.rawName, value: Self.noStore.value)
        if let location { headers.add(name: "Location", value: Self.fieldValue(location, name: .location)) }
        if let contentSecurityPolicy { headers.add(name: "Content-Security-Policy", value: contentSecurityPolicy) }
        if html != nil, !isHead { headers.add(name: Self.htmlType.name.rawName, value: Self.htmlType.value) }
        return HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
    }

    /// `value` as a field of Swift HTTP Types carries it, which turns control characters into spaces and trims the
    /// ends (NIO's HTTP/1 headers take any bytes, and Hummingbird does not check them on the way out): checked
    /// over its bytes, made as such a field only when it would change.
    static func fieldValue(_ value: String, name: HTTPField.Name) -> String {
        let plain = value.utf8.allSatisfy { ($0 >= 0x20 && $0 != 0x7F) }
        let trimmed = value.utf8.first != 0x20 && value.utf8.last != 0x20
        return plain && trimmed ? value : HTTPField(name: name, value: value).value
    }

    private static let noStore = HTTPField(name: .cacheControl, value: "no-store")
    private static let htmlType = HTTPField(name: .contentType, value: "text/html; charset=utf-8")
}

/// Limits, security headers and request logging without personal data (no tokens, no addresses, no agents).
struct GuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        var response: Response
        if request.uri.description.utf8.count > ResponseGuard.maxURILength {
            response = Response(status: .uriTooLong)
        } else {
            do {
                response = try await next(request, context)
            } catch let error as HTTPResponseError {
                response = try error.response(from: request, context: context)
            } catch let error as StoreError {
                // A store failure (SQLite busy or full, the click writer stopped): answered, counted and logged
                // here, so that the failures worth an alert show in /metrics and the log. (Other errors, such as a
                // client gone in the middle of its body, stay Hummingbird's: it closes the connection.)
                logger.error(
                    "\(request.method.rawValue) \(AdvocateMetrics.route(of: request.uri.path)) failed: \(error)")
                response = Response(status: .internalServerError)
            }
        }
        ResponseGuard.secure(&response.headers)
        ResponseGuard.account(
            method: request.method.rawValue, path: request.uri.path, status: response.status.code, since: start,
            logger: logger)
        return response
    }
}

/// What every answer gets, from the router (``GuardMiddleware``) and from the event loops' fast path
/// (``LinkFastPath``) alike.
enum ResponseGuard {
    /// Longer URIs are answered 414.
    static let maxURILength = 512

    /// The headers every answer of this server carries (the event loops' fast path adds them too). Made once:
    /// a field made from text checks every byte of it, and this runs on every request.
    static func secure(_ headers: inout HTTPFields) {
        put(referrerPolicy, in: &headers)
        put(noSniff, in: &headers)
        if !headers.contains(.contentSecurityPolicy) { headers.append(defaultPolicy) }
    }

    /// The same headers, in the same order, added to an answer of the fast path (which has none of them but its
    /// own policy, when it has one).
    static func secure(_ headers: inout HTTPHeaders) {
        headers.add(name: referrerPolicy.name.rawName, value: referrerPolicy.value)
        headers.add(name: noSniff.name.rawName, value: noSniff.value)
        if !headers.contains(name: defaultPolicy.name.rawName) {
            headers.add(name: defaultPolicy.name.rawName, value: defaultPolicy.value)
        }
    }

    private static let referrerPolicy = HTTPField(name: HTTPField.Name("Referrer-Policy")!, value: "no-referrer")
    private static let noSniff = HTTPField(name: .xContentTypeOptions, value: "nosniff")
    private static let defaultPolicy = HTTPField(
        name: .contentSecurityPolicy,
        value: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")

    /// Sets `field`: appended, or in place of the route's own (a search instead of the setter's search and copy).
    private static func put(_ field: HTTPField, in headers: inout HTTPFields) {
        if headers.contains(field.name) {
            headers[field.name] = field.value
        } else {
            headers.append(field)
        }
    }

    /// Counts an answered request in the metrics and logs it at `info` (route and status only: no personal data).
    static func account(
        method: String, path: String, status: Int, since start: ContinuousClock.Instant, logger: Logger
    ) {
        account(method: method, route: AdvocateMetrics.route(of: path), status: status, since: start, logger: logger)
    }

    /// As ``account(method:path:status:since:logger:)``, for a request whose route is known (``LinkFastPath``).
    static func account(
        method: String, route: String, status: Int, since start: ContinuousClock.Instant, logger: Logger
    ) {
        let duration = ContinuousClock.now - start
        AdvocateMetrics.request(route: route, status: status, duration: duration)
        if logger.logLevel <= .info {
            logger.info(
                "\(method) \(route) \(status) \(duration)",
                metadata: ["route": "\(route)", "status": "\(status)"])
        }
    }
}

/// The dashboard's credentials: `Authorization: Bearer TOKEN`, or HTTP basic auth with TOKEN as the password (any
/// user name), compared in constant time. Without ADVOCATE_ADMIN_TOKEN the dashboard does not exist at all.
enum AdminAuth {
    static func allows(_ header: String?, token: String) -> Bool {
        // An empty token opens nothing (an empty password would otherwise match it).
        guard let header, !token.isEmpty else { return false }
        var presented: String?
        if header.hasPrefix("Bearer ") {
            presented = String(header.dropFirst(7))
        } else if header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst(6))),
            let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            presented = String(pair[pair.index(after: colon)...])
        }
        guard let presented else { return false }
        let a = Array(presented.utf8)
        let b = Array(token.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
