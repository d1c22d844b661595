import AdvocateCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Adds the editor under `/admin`: sign-in, the weeks, items, preview and test sends, and the dashboard (for a
/// signed-in editor, or for scripts with `ADVOCATE_ADMIN_TOKEN` as a bearer token). Every POST needs the session
/// and the CSRF token; every page is `no-store`.
func addEditorRoutes(
    to router: Router<AdvocateRequestContext>, context: AppContext, database: AppDatabase, transport: any MailTransport,
    logger: Logger
) throws {
    let config = context.config
    let base = config.basePath + "/admin"
    let secure = config.publicBaseURL.hasPrefix("https://")
    let auth = EditorAuth(database: database, settings: config.editor, secure: secure, now: context.now)
    let csrf = CSRFGuard(publicBaseURL: config.publicBaseURL)
    let handler = EditorHandler(
        database: database, pages: try EditorPages.load(directory: config.resolve(config.templatesDirectory)),
        context: context, fetcher: PageFetcher(settings: config.fetch), transport: transport, logger: logger,
        base: base)
    let dashboard = try Dashboard(context: context, database: database, logger: logger)
    let adminToken = try context.secrets.checkedAdminToken()
    let trusted = config.server.trustedProxies

    /// The page for a signed-in editor, or a redirect to the sign-in page; a fresh CSRF cookie when needed.
    @Sendable func signedIn(
        _ request: Request, _ body: (Editor, String) async throws -> PageResponse
    ) async throws -> Response {
        let token = csrf.token(for: request)
        var page: PageResponse
        if let editor = try await auth.editor(cookie: request.cookies[auth.cookieName]?.value) {
            page = try await body(editor, token.value)
        } else {
            page = handler.redirect("\(base)/login")
        }
        if let cookie = token.setCookie { page.headers["Set-Cookie"] = cookie }
        return page.response
    }
    /// A POST's fields when the body is a well-formed form, and whether its CSRF token is right.
    @Sendable func form(_ request: Request) async throws -> (fields: [String: String], valid: Bool)? {
        let body = try await request.body.collect(upTo: 262_144)
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard type?.lowercased() == "application/x-www-form-urlencoded",
            let fields = URLEncodedForm.parse(String(buffer: body))
        else { return nil }
        return (fields, csrf.allows(request, field: fields["csrf"]))
    }
    /// A POST's fields, when the body is a well-formed form with the right CSRF token.
    @Sendable func posted(_ request: Request) async throws -> [String: String]? {
        guard let (fields, valid) = try await form(request), valid else { return nil }
        return fields
    }
    /// Saves an item's form (`id == nil`: a new item). One refused for its token alone (it expired, or a link
    /// opened in another tab renewed the cookie) comes back unsaved with what was typed and a fresh token: saving
    /// again is one press, and nothing typed is lost, when the browser says plainly that it came from this site
    /// (``CSRFGuard/surelyFromThisSite(_:)``). Any other (a sibling subdomain's page, say, or one whose `Origin` is
    /// `null`) is refused plainly: shown back, its fields would be one press from saved.
    @Sendable func saveItem(_ request: Request, id: Int64?) async throws -> Response {
        guard let (fields, valid) = try await form(request), valid || csrf.surelyFromThisSite(request) else {
            return PageResponse(
                status: 403, body: "The form was stale or came from elsewhere: reload the page and try again.",
                contentType: "text/plain; charset=utf-8"
            ).response
        }
        return try await signedIn(request) { editor, token in
            guard valid else {
                return handler.itemPage(
                    fields: fields, id: id, editor: editor, csrf: token, notice: nil,
                    problem: "Not saved: the form's security token had expired (another tab or a link may have "
                        + "renewed it). Your text is still here: check it and save again.",
                    changes: [], status: 403)
            }
            return try await handler.saveItem(id: id, fields: fields, editor: editor, csrf: token)
        }
    }
    @Sendable func signedInPost(
        _ request: Request, _ body: (Editor, String, [String: String]) async throws -> PageResponse
    ) async throws -> Response {
        guard let fields = try await posted(request) else {
            return PageResponse(
                status: 403, body: "The form was stale or came from elsewhere: reload the page and try again.",
                contentType: "text/plain; charset=utf-8"
            ).response
        }
        return try await signedIn(request) { editor, token in try await body(editor, token, fields) }
    }
    @Sendable func week(_ requestContext: AdvocateRequestContext) -> ISOWeek? {
        requestContext.parameters.get("week").flatMap { try? ISOWeek(parsing: $0) }
    }
    @Sendable func itemID(_ requestContext: AdvocateRequestContext) -> Int64? {
        requestContext.parameters.get("id").flatMap { Int64($0) }
    }
    @Sendable func done(_ request: Request) -> String? {
        EditorHandler.notice(request.uri.queryParameters["done"].map(String.init))
    }

    router.get("/admin") { request, _ in
        if let adminToken, AdminAuth.allows(request.headers[.authorization], token: adminToken) {
            return LinkResponse(status: 200, location: nil, html: try await dashboard.page()).response(isHead: false)
        }
        if try await auth.editor(cookie: request.cookies[auth.cookieName]?.value) != nil {
            return LinkResponse(status: 200, location: nil, html: try await dashboard.page()).response(isHead: false)
        }
        if request.headers[.authorization] == nil, request.headers[.accept]?.contains("text/html") == true {
            return Response(status: .seeOther, headers: [.location: "\(base)/login", .cacheControl: "no-store"])
        }
        return Response(
            status: .unauthorized,
            headers: [.wwwAuthenticate: "Basic realm=\"Advocate\", charset=\"UTF-8\"", .cacheControl: "no-store"])
    }
    router.get("/admin/login") { request, _ in
        let token = csrf.token(for: request)
        var page = handler.loginPage(csrf: token.value)
        if let cookie = token.setCookie { page.headers["Set-Cookie"] = cookie }
        return page.response
    }
    router.post("/admin/login") { request, requestContext in
        let token = csrf.token(for: request)
        guard let fields = try await posted(request) else {
            var page = handler.loginPage(
                csrf: token.value, problem: "The form was stale: please sign in again.", status: 403)
            if let cookie = token.setCookie { page.headers["Set-Cookie"] = cookie }
            return page.response
        }
        let name = fields["name"] ?? ""
        let address = requestContext.clientAddress(of: request, server: config.server)
        // A trusted proxy that names no client is not a client: it gets no counter that all visitors would share.
        let client = address.flatMap { bytes in
            trusted.contains { $0.contains(bytes) } ? nil : EditorAuth.clientKey(bytes)
        }
        switch try await auth.signIn(name: name, password: fields["password"] ?? "", client: client) {
        case .signedIn(let editor, let cookie):
            logger.info("editor \(editor.name) signed in")
            return handler.redirect("\(base)/weeks?done=signedin", headers: ["Set-Cookie": cookie]).response
        case .refused:
            return handler.loginPage(
                csrf: token.value, name: name, problem: "Wrong name or password.", status: 401
            ).response
        case .paused:
            var page = handler.loginPage(
                csrf: token.value, name: name,
                problem: "Too many failed attempts: sign-in is paused for 15 minutes.", status: 429)
            page.headers["Retry-After"] = "900"
            return page.response
        case .busy:
            var page = handler.loginPage(
                csrf: token.value, name: name,
                problem: "Sign-in is busy checking other passwords: try again in a few seconds (this cost no try).",
                status: 429)
            page.headers["Retry-After"] = "5"
            return page.response
        }
    }
    router.post("/admin/logout") { request, _ in
        guard try await posted(request) != nil else {
            return handler.redirect("\(base)/weeks").response
        }
        let clear = try await auth.signOut(cookie: request.cookies[auth.cookieName]?.value)
        return handler.redirect("\(base)/login", headers: ["Set-Cookie": clear]).response
    }
    router.get("/admin/weeks") { request, _ in
        try await signedIn(request) { editor, token in
            try await handler.weeksPage(editor: editor, csrf: token, notice: done(request))
        }
    }
    router.get("/admin/weeks/:week") { request, requestContext in
        try await signedIn(request) { editor, token in
            guard let week = week(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            return try await handler.weekPage(week, editor: editor, csrf: token, notice: done(request))
        }
    }
    router.post("/admin/weeks/:week/preview") { request, requestContext in
        try await signedInPost(request) { editor, token, fields in
            guard let week = week(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            return try await handler.preview(week: week, fields: fields, editor: editor, csrf: token)
        }
    }
    router.get("/admin/weeks/:week/preview") { request, requestContext in
        try await signedIn(request) { editor, token in
            guard let week = week(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            let id = request.uri.queryParameters["id"].flatMap { Int64(String($0)) }
            return try await handler.previewPage(week: week, ambassadorID: id, editor: editor, csrf: token)
        }
    }
    router.get("/admin/weeks/:week/preview.html") { request, requestContext in
        try await signedIn(request) { editor, token in
            guard let week = week(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            let id = request.uri.queryParameters["id"].flatMap { Int64(String($0)) }
            return try await handler.previewHTML(week: week, ambassadorID: id)
        }
    }
    router.post("/admin/weeks/:week/test") { request, requestContext in
        try await signedInPost(request) { editor, token, fields in
            guard let week = week(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            return try await handler.sendTest(week: week, fields: fields, editor: editor, csrf: token)
        }
    }
    router.post("/admin/items/fetch") { request, _ in
        try await signedInPost(request) { editor, token, fields in
            await handler.fetchedItemPage(
                url: fields["url"] ?? "", week: fields["week"], editor: editor, csrf: token)
        }
    }
    router.get("/admin/items/new") { request, _ in
        try await signedIn(request) { editor, token in
            let week = request.uri.queryParameters["week"].map(String.init).flatMap { try? ISOWeek(parsing: $0) }
            return handler.newItemPage(week: week?.description, editor: editor, csrf: token)
        }
    }
    router.post("/admin/items") { request, _ in try await saveItem(request, id: nil) }
    router.get("/admin/items/:id") { request, requestContext in
        try await signedIn(request) { editor, token in
            guard let id = itemID(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            return try await handler.editItemPage(id: id, editor: editor, csrf: token, notice: done(request))
        }
    }
    router.post("/admin/items/:id") { request, requestContext in
        guard let id = itemID(requestContext) else {
            return try await signedIn(request) { editor, token in handler.notFound(editor: editor, csrf: token) }
        }
        return try await saveItem(request, id: id)
    }
    router.post("/admin/items/:id/move") { request, requestContext in
        try await signedInPost(request) { editor, token, fields in
            guard let id = itemID(requestContext), let week = fields["week"].flatMap({ try? ISOWeek(parsing: $0) })
            else { return handler.notFound(editor: editor, csrf: token) }
            return try await handler.move(id: id, week: week, up: fields["direction"] == "up", editor: editor)
        }
    }
    router.post("/admin/items/:id/schedule") { request, requestContext in
        try await signedInPost(request) { editor, token, fields in
            guard let id = itemID(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            let from = fields["from"].flatMap { try? ISOWeek(parsing: $0) }
            let to = fields["to"].flatMap { try? ISOWeek(parsing: $0) }
            guard to != nil || fields["to"] == "draft" else { return handler.notFound(editor: editor, csrf: token) }
            return try await handler.reschedule(id: id, from: from, to: to, editor: editor)
        }
    }
    router.post("/admin/items/:id/remove") { request, requestContext in
        try await signedInPost(request) { editor, token, fields in
            guard let id = itemID(requestContext) else { return handler.notFound(editor: editor, csrf: token) }
            let week = fields["week"].flatMap { try? ISOWeek(parsing: $0) }
            return try await handler.remove(id: id, week: week, editor: editor)
        }
    }
}
