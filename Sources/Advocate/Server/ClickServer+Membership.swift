import AdvocateCore
import Foundation
import Hummingbird
import Logging

/// The routes ambassadors use themselves: `/join` (sign-up, invitations), `/join/confirm/TOKEN` and `/p/TOKEN`
/// (preferences). Every form POST is checked by ``CSRFGuard``. Returns the handler, whose background work the
/// server lets finish before it stops.
func addMembershipRoutes(
    to router: Router<AdvocateRequestContext>, context: AppContext, database: AppDatabase, pages: PageRenderer,
    sealer: LinkSealer, logger: Logger
) throws -> MembershipHandler {
    let config = context.config
    let templates = config.resolve(config.templatesDirectory)
    let links = TrackedShareLinks(baseURL: config.publicBaseURL, sealer: sealer)
    // A click server may run without the sending secrets: it then serves every link, and only the membership
    // mails are off (said once at start).
    var signers: [DKIMSigner] = []
    do { signers = try context.secrets.dkimSigner(config.mail) } catch {
        logger.warning("membership mails go out without DKIM: \(error)")
    }
    let transport: any MailTransport
    do { transport = try context.makeTransport() } catch {
        logger.warning("membership mails are off (sign-up confirmations, welcomes, fresh links): \(error)")
        transport = UnavailableTransport(reason: "\(error)")
    }
    let notices = try NoticeComposer.load(directory: templates, pages: pages, config: config, signers: signers)
    let mails = MailQueue(transport: transport, logger: logger)
    let form = MemberFormContext(pages: pages, config: config)
    let membership = MembershipHandler(
        database: database, pages: pages, form: form, notices: notices, mails: mails, links: links, sealer: sealer,
        config: config, now: context.now, logger: logger)
    let csrf = CSRFGuard(publicBaseURL: config.publicBaseURL)

    /// Runs a page handler with the request's CSRF token, handing a new one to the browser when needed.
    @Sendable func withToken(_ request: Request, _ body: (String) async throws -> PageResponse) async throws
        -> Response
    {
        let token = csrf.token(for: request)
        var page = try await body(token.value)
        if let cookie = token.setCookie { page.headers["Set-Cookie"] = cookie }
        return page.response
    }
    @Sendable func fields(_ request: Request) async throws -> MemberFormFields? {
        let body = try await request.body.collect(upTo: 16_384)
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard type?.lowercased() == "application/x-www-form-urlencoded" else { return nil }
        return try? URLEncodedFormDecoder().decode(MemberFormFields.self, from: String(buffer: body))
    }
    @Sendable func language(_ request: Request) -> Language {
        preferredLanguage(
            query: request.uri.queryParameters["lang"].map(String.init),
            acceptLanguage: request.headers[.acceptLanguage], fallback: config.defaultLanguage)
    }

    router.get("/join") { request, _ in
        try await withToken(request) { token in
            try await membership.joinPage(
                language: language(request), invite: request.uri.queryParameters["invite"].map(String.init),
                csrf: token)
        }
    }
    router.post("/join") { request, _ in
        let submitted = try await fields(request)
        let valid = csrf.allows(request, field: submitted?.csrf)
        return try await withToken(request) { token in
            try await membership.join(submitted, csrfValid: valid, csrf: token, language: language(request))
        }
    }
    router.get("/join/confirm/:token") { request, requestContext in
        let link = try requestContext.parameters.require("token")
        return try await withToken(request) { token in
            try await membership.confirmPage(token: link, csrf: token, language: language(request))
        }
    }
    router.post("/join/confirm/:token") { request, requestContext in
        let link = try requestContext.parameters.require("token")
        let submitted = try await fields(request)
        let valid = csrf.allows(request, field: submitted?.csrf)
        return try await withToken(request) { token in
            try await membership.confirm(
                token: link, csrfValid: valid, fromThisSite: csrf.fromThisSite(request), csrf: token,
                language: language(request))
        }
    }
    router.get("/p/:token") { request, requestContext in
        let link = try requestContext.parameters.require("token")
        return try await withToken(request) { token in try await membership.preferencesPage(token: link, csrf: token) }
    }
    router.post("/p/:token") { request, requestContext in
        let link = try requestContext.parameters.require("token")
        let submitted = try await fields(request)
        let valid = csrf.allows(request, field: submitted?.csrf)
        return try await withToken(request) { token in
            try await membership.preferences(token: link, fields: submitted, csrfValid: valid, csrf: token)
        }
    }
    return membership
}

/// The page language: `?lang=`, else the first of the browser's `Accept-Language` we speak, else the default.
func preferredLanguage(query: String?, acceptLanguage: String?, fallback: Language) -> Language {
    if let query, let language = Language(rawValue: query.lowercased()) { return language }
    for part in (acceptLanguage ?? "").split(separator: ",") {
        let tag = part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if let language = Language(rawValue: String(tag.prefix(2))) { return language }
    }
    return fallback
}
