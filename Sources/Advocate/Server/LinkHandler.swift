import AdvocateCore
import Crypto
import Foundation
import Hummingbird
import Logging

/// What the server answers, independent of the HTTP framework.
public struct LinkResponse: Sendable, Equatable {
    public var status: Int
    /// Redirect target for 302 answers.
    public var location: String?
    /// Page for 200 and 404 answers.
    public var html: String?
    /// A Content-Security-Policy of the page's own (the share page runs one known script).
    public var contentSecurityPolicy: String? = nil
}

/// The behaviour behind `/s/`, `/l/`, `/t/` and `/u/`. Tokens are opened without a database row per link; the
/// redirect target always comes from the stored item, never from the request, so there is no open redirect.
/// Store calls run on the store's own threads (``AppDatabase/perform(_:)``), never on the event loops.
public struct LinkHandler: Sendable {
    let sealer: LinkSealer
    let directory: LinkDirectory
    let recorder: ClickRecorder
    let database: AppDatabase
    let links: TrackedShareLinks
    let pages: PageRenderer
    let settings: LinksConfig
    let timeZone: TimeZone
    let classifier = ClickClassifier()
    let clicks: ClicksConfig
    let readers: ReaderLedger
    let sharePages = SharePageCache()
    let weekStarts: WeekStarts
    /// Keys the in-memory client hashes of this process (never stored).
    let clientKey = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
    let now: @Sendable () -> Date
    let disclosure: [String: String]
    let defaultLanguage: Language
    /// The path of publicBaseURL, for the share page's own request.
    let basePath: String
    /// The share page's script and the policy that allows exactly it.
    let sharePage: (script: String, policy: String)

    /// Creates a handler over the server's page templates and link keys.
    public init(
        context: AppContext, database: AppDatabase, recorder: ClickRecorder, pages: PageRenderer, sealer: LinkSealer,
        logger: Logger = Logger(label: "advocate.links")
    ) {
        self.sealer = sealer
        self.database = database
        self.recorder = recorder
        directory = LinkDirectory(database: database, logger: logger)
        links = TrackedShareLinks(baseURL: context.config.publicBaseURL, sealer: sealer)
        self.pages = pages
        settings = context.config.links
        timeZone = context.config.timeZone
        clicks = context.config.clicks
        readers = ReaderLedger(timeZone: context.config.timeZone)
        weekStarts = WeekStarts(timeZone: context.config.timeZone)
        now = context.now
        disclosure = context.config.digest.disclosure
        basePath = context.config.basePath
        defaultLanguage = context.config.defaultLanguage
        notFound = LinkResponse(status: 404, location: nil, html: pages.render("notFound", language: .nl))
        let script = SharePageScript.source
        let hash = Data(SHA256.hash(data: Data(script.utf8))).base64EncodedString()
        sharePage = (
            script,
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-\(hash)'; connect-src 'self'; "
                + "form-action 'self'; frame-ancestors 'none'"
        )
    }

    /// The plain page every bad link gets, whatever was wrong with it (rendered once: scanners and typos ask often).
    let notFound: LinkResponse

    /// `GET|HEAD /s/TOKEN`, `/l/TOKEN` and `/t/TOKEN`: record the hit, then redirect (or, for the honeypot, answer).
    /// Links of test messages redirect the same way and record nothing.
    /// `client` is the request's address (after trusted proxies), used for this decision and never stored;
    /// `requestID` is the trusted proxy's id of the request, stored so that a retried request counts once.
    public func follow(
        _ text: String, kind: LinkToken.Kind, method: String, userAgent: String?, client: [UInt8]? = nil,
        requestID: String? = nil
    ) async throws -> LinkResponse {
        let hit = FollowHit(
            text: text, kind: kind, method: method, userAgent: userAgent, client: client, requestID: requestID)
        let plan = try await followPlan(hit)
        if let click = plan.click {
            do { try await recorder.record(click) } catch {
                plan.failed?()
                throw error
            }
        }
        return plan.answer
    }

    /// What ``follow(_:kind:method:userAgent:client:requestID:)`` answers and records: from the directory's
    /// caches, or read on the store's threads.
    func followPlan(_ hit: FollowHit) async throws -> FollowPlan {
        if let plan = followCached(hit) { return plan }
        return try await database.perform { _ in try self.followReading(hit) }
    }

    /// What ``follow(_:kind:method:userAgent:client:requestID:)`` answers and records, when every value it needs
    /// from the store is in the directory's cache; `nil` when one must be read. The event loops' fast path
    /// (``LinkFastPath``) answers with it without a task; the answer and the click are the same.
    func followCached(_ hit: FollowHit) -> FollowPlan? {
        let time = now()
        return follow(
            hit, at: time, item: { directory.cachedItem(id: $0, now: time) },
            mail: { token, delivery, language in
                directory.cachedMail(
                    ambassadorID: token.ambassadorID, week: token.week, delivery: delivery, language: language,
                    now: time)
            })
    }

    /// As ``followCached(_:)``, reading from the store what is not cached (the item, then the mail's delivery time
    /// and the person's language in one statement). Blocks: only on the store's threads (``AppDatabase/perform(_:)``).
    func followReading(_ hit: FollowHit) throws -> FollowPlan {
        let time = now()
        let plan = try follow(
            hit, at: time, item: { .some(try directory.readItem(id: $0, now: time)) },
            mail: { token, delivery, language in
                try directory.readMail(
                    ambassadorID: token.ambassadorID, week: token.week, delivery: delivery, language: language,
                    now: time)
            })
        guard let plan else {
            assertionFailure("every read answers, so a plan always comes")
            return FollowPlan(answer: notFound, click: nil)
        }
        return plan
    }

    /// The steps of both: open the token, look up its item, then its mail's delivery time (only a recorded share's
    /// click needs it) and the person's language (only where the answer does). A lookup answers `nil` when its
    /// value must be read first; the plan is then `nil` too.
    private func follow(
        _ hit: FollowHit, at time: Date, item lookUpItem: (Int64) throws -> ContentItem??,
        mail lookUpMail: (LinkToken, _ delivery: Bool, _ language: Bool) throws -> (
            deliveredAt: Date?, language: Language?
        )?
    ) rethrows -> FollowPlan? {
        guard let token = open(hit, at: time) else { return FollowPlan(answer: notFound, click: nil) }
        // Share and visit links need a network and an item that still exists; the honeypot has neither.
        var item: ContentItem?
        if hit.kind != .trap {
            guard let found = try lookUpItem(token.itemID) else { return nil }
            item = found
            guard item != nil, token.network != nil else { return FollowPlan(answer: notFound, click: nil) }
        }
        let needsLanguage = needsLanguage(token, item)
        guard let mail = try lookUpMail(token, records(token) && token.kind == .share, needsLanguage) else {
            return nil
        }
        let language = needsLanguage ? mail.language ?? defaultLanguage : defaultLanguage
        return plan(hit, token: token, item: item, deliveredAt: mail.deliveredAt, language: language, at: time)
    }

    /// The hit's token, if it opens, is of the route's kind and has not expired.
    private func open(_ hit: FollowHit, at time: Date) -> LinkToken? {
        guard let token = sealer.open(hit.text), token.kind == hit.kind, !expired(token, at: time) else { return nil }
        return token
    }

    /// Whether a hit on this token is recorded (test messages' links record nothing).
    private func records(_ token: LinkToken) -> Bool { !token.test }

    /// The person's language matters only for a disclosure, the share page or an item in several languages: no
    /// lookup on the plain redirect (nor on visits and the honeypot).
    private func needsLanguage(_ token: LinkToken, _ item: ContentItem?) -> Bool {
        guard token.kind == .share, let item, let network = token.network else { return false }
        return !(disclosure.isEmpty && network.prefillsText && item.variants.isEmpty)
    }

    /// The answer to a hit on an opened token whose item (nil for the honeypot), delivery time and language were
    /// looked up, and the click to commit before it is sent.
    private func plan(
        _ hit: FollowHit, token: LinkToken, item: ContentItem?, deliveredAt: Date?, language: Language, at time: Date
    ) -> FollowPlan {
        var plan = FollowPlan(answer: answer(hit, token: token, item: item, language: language, at: time))
        if records(token) {
            let click = click(hit, token: token, deliveredAt: deliveredAt)
            plan.click = click.build
            plan.failed = click.failed
        }
        return plan
    }

    /// What a hit on an opened token is answered.
    private func answer(
        _ hit: FollowHit, token: LinkToken, item: ContentItem?, language: Language, at time: Date
    ) -> LinkResponse {
        guard let item, let network = token.network else {
            return LinkResponse(status: 200, location: nil, html: "")
        }
        if token.kind == .visit {
            return LinkResponse(
                status: 302,
                location: directory.taggedURL(
                    item.url, source: network.rawValue, medium: settings.utmMedium,
                    campaign: token.week.description, now: time),
                html: nil)
        }
        let visit = links.visit(
            itemID: token.itemID, network: network, ambassadorID: token.ambassadorID, week: token.week,
            test: token.test)
        let localized = item.localized(for: language)
        let text = ShareText.with(
            disclosure: disclosure[language.rawValue],
            DigestSelection.text(for: localized, network: network, ambassadorID: token.ambassadorID))
        let intent = ShareIntent.url(for: network, text: text, url: visit, subject: localized.title)
        guard network.prefillsText else {
            // LinkedIn and Facebook take no text: a page with the text to edit and copy, and one button that copies
            // it and opens the network's dialog (a plain link does the same without JavaScript).
            return sharePage(
                item: localized, network: network, text: text, intent: intent, language: language, token: hit.text)
        }
        return LinkResponse(status: 302, location: intent, html: nil)
    }

    private func sharePage(
        item: ContentItem, network: Network, text: String, intent: String, language: Language, token: String
    ) -> LinkResponse {
        let html = sharePages.page(
            language: language, network: network, title: item.title, text: text, url: intent,
            pressed: "\(basePath)/s/\(token)/pressed"
        ) { markers in
            let words = pages.words(language, ["network": network.displayName])
            let context: [String: Any] = [
                "lang": language.rawValue, "t": words, "title": markers[0], "text": markers[1], "url": markers[2],
                "button": words["shareButton"] ?? "", "openOnly": words["shareOpenOnly"] ?? "",
                "pressed": markers[3], "script": sharePage.script, "disclosure": disclosure[language.rawValue] != nil,
            ]
            return pages.render(template: "share.html", context: context)
        }
        return LinkResponse(status: 200, location: nil, html: html, contentSecurityPolicy: sharePage.policy)
    }

    /// `POST /s/TOKEN/pressed`: the share page's button was pressed, which scanners do not do: recorded as a human
    /// share (the share itself is counted once however often it is pressed).
    public func pressed(_ text: String, fetchSite: String?) async throws -> LinkResponse {
        let time = now()
        guard let token = sealer.open(text), token.kind == .share, !expired(token, at: time), !token.test,
            let network = token.network, !network.prefillsText, fetchSite == nil || fetchSite == "same-origin",
            try await directory.item(id: token.itemID, now: time) != nil,
            try await directory.language(ambassadorID: token.ambassadorID, now: time) != nil
        else { return LinkResponse(status: 204, location: nil, html: nil) }
        let share = ShareKey.of(
            ambassadorID: token.ambassadorID, itemID: token.itemID, network: network, week: token.week)
        guard directory.notePress(share) else { return LinkResponse(status: 204, location: nil, html: nil) }
        do {
            try await recorder.record(
                ClickRecord(
                    at: time, kind: .share, week: token.week, itemID: token.itemID, network: network,
                    ambassadorID: token.ambassadorID,
                    verdict: ClickVerdict(.human, "pressed the share page's copy-and-open button")))
        } catch {
            // Not stored: the next press must be able to store it.
            directory.forgetPress(share)
            throw error
        }
        return LinkResponse(status: 204, location: nil, html: nil)
    }

    /// The click of a hit, built under the writer's lock (``ClickRecorder/record(_:)``): the hit's moment is
    /// taken there, after the lookups, and taking it, noting the hit among its mail's, judging it and queueing it
    /// happen in one order for all hits: a share hit whose delivery time had to be read cannot be noted after a
    /// honeypot hit of the same scanner yet carry the earlier moment (it would then be judged before the honeypot
    /// and never tainted by it), and a hit that taints earlier ones is stored after them.
    ///
    /// The second closure (visits only) takes back what building the click noted that only a stored click may
    /// count: a reader's first visit of the day, when the click's commit failed. (A second visit of the same reader
    /// built before that, and stored, then stays "not new": the reader's next visit counts them. And on PostgreSQL a
    /// commit whose answer was lost may have stored the click: the reader may then count twice.)
    private func click(_ hit: FollowHit, token: LinkToken, deliveredAt: Date?) -> (
        build: @Sendable () -> ClickRecord, failed: (@Sendable () -> Void)?
    ) {
        let clientHash = clientHash(hit.client, hit.userAgent)
        let scannerNetwork = clicks.scannerNetwork(of: hit.client)
        // What the click needs, not the whole handler: copying it retained each of its many references, per click.
        let (now, directory, classifier, readers) = (now, directory, classifier, readers)
        // The reader a visit noted new (share, item, when, to which share), if any; only visits note one.
        let noted = token.kind == .visit ? Locked<(share: Bool, item: Bool, at: Date, shareKey: Int64)?>(nil) : nil
        let failed = noted.map { noted in
            { @Sendable in
                guard let reader = noted.withLock({ $0 }) else { return }
                readers.forget(
                    address: hit.client, userAgent: hit.userAgent, shareKey: reader.shareKey, itemID: token.itemID,
                    at: reader.at, share: reader.share, item: reader.item)
            }
        }
        let build: @Sendable () -> ClickRecord = {
            let time = now()
            var judged = Hit(
                method: hit.method, userAgent: hit.userAgent, at: time, kind: token.kind, network: token.network,
                deliveredAt: deliveredAt, scannerNetwork: scannerNetwork, link: hit.text, client: clientHash)
            judged.mailHits = directory.noteMailHit(
                ambassadorID: token.ambassadorID, week: token.week,
                hit: MailHit(
                    at: time, link: hit.text, client: clientHash, trap: token.kind == .trap,
                    visit: token.kind == .visit),
                window: 60)
            let judgement = classifier.judge(judged)
            var record = ClickRecord(
                at: time, kind: token.kind, week: token.week, itemID: token.kind == .trap ? nil : token.itemID,
                network: token.network, ambassadorID: token.ambassadorID, verdict: judgement.verdict,
                taints: judgement.taints)
            record.checkBefore = judgement.checkBefore
            record.confirms = judgement.confirms
            record.requestID = hit.requestID
            if token.kind == .visit, judgement.verdict.classification == .human, let key = record.shareKey {
                let fresh = readers.note(
                    address: hit.client, userAgent: hit.userAgent, shareKey: key, itemID: token.itemID, at: time)
                record.newReader = fresh.share
                record.newItemReader = fresh.item
                noted?.withLock { $0 = (fresh.share, fresh.item, time, key) }
            }
            return record
        }
        return (build, failed)
    }

    /// A keyed hash of address and agent that tells clients apart within this process; never stored. SipHash
    /// (Swift's `Hasher`, seeded per process) keyed once more with this handler's random key: a cryptographic MAC
    /// is not needed for a value that never leaves memory, and this runs on every click.
    private func clientHash(_ address: [UInt8]?, _ userAgent: String?) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(clientKey.0)
        hasher.combine(clientKey.1)
        hasher.combine(address ?? [])
        hasher.combine(userAgent ?? "")
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// `GET /u/TOKEN`: a page with a confirm button. A GET never changes anything, because scanners follow links.
    /// An invitation's opt-out link (``LinkToken/Kind/stopInvitations``) has its own page (`stopInvitationsPage`).
    public func unsubscribePage(_ text: String) async throws -> LinkResponse {
        guard let token = sealer.open(text) else { return notFound }
        if token.kind == .stopInvitations { return try await stopInvitationsPage(token) }
        guard token.kind == .unsubscribe,
            let ambassador = try await database.perform({ try $0.ambassador(id: token.ambassadorID) })
        else { return notFound }
        if token.test { return page("test", language: ambassador.language) }
        if ambassador.status == .unsubscribed {
            return try await canResubscribe(token, ambassador)
                ? page("done", language: ambassador.language, action: "resubscribe", button: "resubscribeButton")
                : page("doneOld", language: ambassador.language)
        }
        return page("confirm", language: ambassador.language, action: "unsubscribe", button: "confirmButton")
    }

    /// `POST /u/TOKEN`: RFC 8058 one-click (`List-Unsubscribe=One-Click`, as `application/x-www-form-urlencoded`
    /// or `multipart/form-data`) or the page's form (`action=…`). Unsubscribing works with a link of any age;
    /// re-subscribing only with a recent one (``LinksConfig/resubscribeWeeks``), so an old or forwarded mail cannot
    /// sign someone up again. An invitation's opt-out link stops invitations instead (`stopInvitations`).
    public func unsubscribe(_ text: String, form: UnsubscribeForm?) async throws -> LinkResponse {
        guard let token = sealer.open(text) else { return notFound }
        if token.kind == .stopInvitations { return try await stopInvitations(token, form: form) }
        guard token.kind == .unsubscribe,
            let ambassador = try await database.perform({ try $0.ambassador(id: token.ambassadorID) }),
            let id = ambassador.id
        else { return notFound }
        let language = ambassador.language
        guard let form, form.isOneClick || form.action == "unsubscribe" || form.action == "resubscribe" else {
            return LinkResponse(status: 400, location: nil, html: pages.render("badRequest", language: language))
        }
        if token.test { return page("test", language: language) }
        let time = now()
        if form.action == "resubscribe" {
            guard try await canResubscribe(token, ambassador) else { return page("doneOld", language: language) }
            try await database.perform { try $0.setStatus(.active, ambassadorID: id, now: time) }
            return page("resubscribed", language: language)
        }
        var left = ambassador
        if ambassador.status != .unsubscribed {
            try await database.perform { try $0.setStatus(.unsubscribed, ambassadorID: id, now: time) }
            left.status = .unsubscribed
        }
        return try await canResubscribe(token, left)
            ? page("done", language: language, action: "resubscribe", button: "resubscribeButton")
            : page("doneOld", language: language)
    }

    /// `GET /u/TOKEN` of an invitation's opt-out link: a page with a confirm button, or the page that says the
    /// address is never invited again when it already is.
    private func stopInvitationsPage(_ token: LinkToken) async throws -> LinkResponse {
        guard
            let (invitation, stopped) = try await database.perform({ try $0.invitationOptOut(id: token.ambassadorID) })
        else { return notFound }
        if token.test { return page("test", language: invitation.language) }
        return stopped
            ? page("invitesStopped", language: invitation.language)
            : page("stopInvites", language: invitation.language, action: "stopInvitations", button: "stopInvitesButton")
    }

    /// `POST /u/TOKEN` of an invitation's opt-out link: RFC 8058 one-click or the page's form
    /// (`action=stopInvitations`). The address is never invited again (``AppDatabase/stopInvitations(id:now:)``);
    /// the invitation's own join link still works while it lasts.
    private func stopInvitations(_ token: LinkToken, form: UnsubscribeForm?) async throws -> LinkResponse {
        guard let invitation = try await database.perform({ try $0.invitation(id: token.ambassadorID) }) else {
            return notFound
        }
        guard let form, form.isOneClick || form.action == "stopInvitations" else {
            return LinkResponse(
                status: 400, location: nil, html: pages.render("badRequest", language: invitation.language))
        }
        if token.test { return page("test", language: invitation.language) }
        let time = now()
        guard try await database.perform({ try $0.stopInvitations(id: token.ambassadorID, now: time) }) != nil else {
            return notFound
        }
        return page("invitesStopped", language: invitation.language)
    }

    private func page(_ key: String, language: Language, action: String? = nil, button: String? = nil)
        -> LinkResponse
    {
        LinkResponse(
            status: 200, location: nil, html: pages.render(key, language: language, action: action, button: button))
    }

    /// Whether this link may sign the person up again: only someone who unsubscribed (never a pending or removed
    /// person), only with a recent mail's link, and only as an undo within a day of leaving, so that a kept or
    /// forwarded mail cannot undo a decision made later. (The preferences page and `/join` re-subscribe for good.)
    private func canResubscribe(_ token: LinkToken, _ ambassador: Ambassador) async throws -> Bool {
        let time = now()
        let age = time.timeIntervalSince(weekStarts.start(of: token.week)) / (7 * 86_400)
        guard ambassador.status == .unsubscribed, age <= Double(settings.resubscribeWeeks + 1), let id = ambassador.id
        else { return false }
        guard let left = try await database.perform({ try $0.unsubscribedAt(ambassadorID: id) }) else { return true }
        return time.timeIntervalSince(left) <= Self.undoSeconds
    }

    /// How long after unsubscribing the unsubscribe page still offers to undo it.
    static let undoSeconds: TimeInterval = 86_400

    private func expired(_ token: LinkToken, at time: Date) -> Bool {
        let weeks = token.kind == .visit ? settings.visitLinkWeeks : settings.shareLinkWeeks
        guard weeks > 0, token.kind != .unsubscribe else { return false }
        let age = time.timeIntervalSince(weekStarts.start(of: token.week)) / (7 * 86_400)
        return age > Double(weeks + 1) || age < -1
    }
}

/// The fields of an unsubscribe POST: the RFC 8058 one-click field or the confirm page's `action`.
public struct UnsubscribeForm: Decodable, Sendable, Equatable {
    public var action: String?
    public var listUnsubscribe: String?

    enum CodingKeys: String, CodingKey {
        case action
        case listUnsubscribe = "List-Unsubscribe"
    }

    /// Creates a form.
    public init(action: String? = nil, listUnsubscribe: String? = nil) {
        self.action = action
        self.listUnsubscribe = listUnsubscribe
    }

    /// `List-Unsubscribe=One-Click`.
    var isOneClick: Bool { listUnsubscribe == "One-Click" }

    /// Reads the form from a body of either encoding RFC 8058 allows; `nil` when the body is malformed or of
    /// another type.
    public static func decode(body: [UInt8], contentType: String?) -> UnsubscribeForm? {
        let type = contentType ?? "application/x-www-form-urlencoded"
        if let boundary = MultipartForm.boundary(contentType: type) {
            guard let fields = MultipartForm.fields(body, boundary: boundary) else { return nil }
            return UnsubscribeForm(action: fields["action"], listUnsubscribe: fields["List-Unsubscribe"])
        }
        let mediaType = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "application/x-www-form-urlencoded" else { return nil }
        return try? URLEncodedFormDecoder().decode(UnsubscribeForm.self, from: String(decoding: body, as: UTF8.self))
    }
}

/// A request on a `/s/`, `/l/` or `/t/` link: what the answer and the click depend on.
struct FollowHit: Sendable {
    /// The token as it stands in the path.
    var text: String
    /// The route's kind.
    var kind: LinkToken.Kind
    var method: String
    var userAgent: String?
    /// The client's address (after trusted proxies), never stored.
    var client: [UInt8]?
    /// The trusted proxy's id of the request.
    var requestID: String?
}

/// A link's answer and the click to commit before it is sent (`nil`: nothing is recorded).
struct FollowPlan: Sendable {
    var answer: LinkResponse
    var click: (@Sendable () -> ClickRecord)?
    /// To call when the click's commit failed (see ``LinkHandler``'s `click`).
    var failed: (@Sendable () -> Void)?

    init(answer: LinkResponse, click: (@Sendable () -> ClickRecord)? = nil, failed: (@Sendable () -> Void)? = nil) {
        self.answer = answer
        self.click = click
        self.failed = failed
    }
}
