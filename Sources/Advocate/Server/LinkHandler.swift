import AdvocateCore
import Foundation

/// What the server answers, independent of the HTTP framework.
public struct LinkResponse: Sendable, Equatable {
    public var status: Int
    /// Redirect target for 302 answers.
    public var location: String?
    /// Page for 200 and 404 answers.
    public var html: String?
}

/// The behaviour behind `/s/`, `/l/`, `/t/` and `/u/`. Tokens are opened without a database row per link; the
/// redirect target always comes from the stored item, never from the request, so there is no open redirect.
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
    let now: @Sendable () -> Date

    /// Creates a handler.
    public init(context: AppContext, database: AppDatabase, recorder: ClickRecorder) throws {
        let sealer = LinkSealer(keyring: try context.secrets.linkKeys())
        self.sealer = sealer
        self.database = database
        self.recorder = recorder
        directory = LinkDirectory(database: database)
        links = TrackedShareLinks(baseURL: context.config.publicBaseURL, sealer: sealer)
        pages = try PageRenderer.load(directory: context.config.resolve(context.config.templatesDirectory))
        settings = context.config.links
        timeZone = context.config.timeZone
        now = context.now
    }

    /// The plain page every bad link gets, whatever was wrong with it.
    var notFound: LinkResponse {
        LinkResponse(status: 404, location: nil, html: pages.render("notFound", language: .nl))
    }

    /// `GET|HEAD /s/TOKEN`, `/l/TOKEN` and `/t/TOKEN`: record the hit, then redirect (or, for the honeypot, answer).
    public func follow(_ text: String, kind: LinkToken.Kind, method: String, userAgent: String?) async throws
        -> LinkResponse
    {
        let time = now()
        guard let token = sealer.open(text), token.kind == kind, !expired(token, at: time) else { return notFound }
        // Share and visit links need a network and an item that still exists; the honeypot has neither.
        let item = kind == .trap ? nil : try directory.item(id: token.itemID, now: time)
        if kind != .trap && (item == nil || token.network == nil) { return notFound }
        let verdict: ClickVerdict
        var taint: TimeInterval? = nil
        switch kind {
        case .trap:
            verdict = ClickVerdict(.scanner, "honeypot link")
            taint = classifier.burstSeconds * 2
            _ = directory.noteMailHit(
                ambassadorID: token.ambassadorID, week: token.week, link: text, at: time,
                window: classifier.burstSeconds)
        case .share:
            let others = directory.noteMailHit(
                ambassadorID: token.ambassadorID, week: token.week, link: text, at: time,
                window: classifier.burstSeconds)
            verdict = classifier.classify(
                method: method, userAgent: userAgent, at: time,
                deliveredAt: try directory.deliveredAt(ambassadorID: token.ambassadorID, week: token.week, now: time),
                otherLinksOfMail: others)
            if verdict.reason.hasPrefix("several links") { taint = classifier.burstSeconds }
        default:
            verdict = classifier.classify(
                method: method, userAgent: userAgent, at: time, deliveredAt: nil, otherLinksOfMail: [])
        }
        try await recorder.record(
            ClickRecord(
                at: time, kind: kind, week: token.week, itemID: kind == .trap ? nil : token.itemID,
                network: token.network, ambassadorID: token.ambassadorID, verdict: verdict, taintsMailWithin: taint))
        guard let item, let network = token.network else {
            return LinkResponse(status: 200, location: nil, html: "")
        }
        if kind == .visit {
            return LinkResponse(
                status: 302,
                location: UTM.tag(
                    item.url, source: network.rawValue, medium: settings.utmMedium, campaign: token.week.description),
                html: nil)
        }
        let visit = links.visit(
            itemID: token.itemID, network: network, ambassadorID: token.ambassadorID, week: token.week)
        let text = DigestSelection.text(for: item, network: network, ambassadorID: token.ambassadorID)
        return LinkResponse(
            status: 302, location: ShareIntent.url(for: network, text: text, url: visit, subject: item.title), html: nil
        )
    }

    /// `GET /u/TOKEN`: a page with a confirm button. A GET never changes anything, because scanners follow links.
    public func unsubscribePage(_ text: String) throws -> LinkResponse {
        guard let token = sealer.open(text), token.kind == .unsubscribe,
            let ambassador = try database.ambassador(id: token.ambassadorID)
        else { return notFound }
        if ambassador.status == .unsubscribed {
            return LinkResponse(
                status: 200, location: nil,
                html: pages.render(
                    "done", language: ambassador.language, action: "resubscribe", button: "resubscribeButton"))
        }
        return LinkResponse(
            status: 200, location: nil,
            html: pages.render("confirm", language: ambassador.language, action: "unsubscribe", button: "confirmButton")
        )
    }

    /// `POST /u/TOKEN`: RFC 8058 one-click (`List-Unsubscribe=One-Click`) or the page's form (`action=…`).
    public func unsubscribe(_ text: String, body: String) throws -> LinkResponse {
        guard let token = sealer.open(text), token.kind == .unsubscribe,
            let ambassador = try database.ambassador(id: token.ambassadorID), let id = ambassador.id
        else { return notFound }
        let fields = Dictionary(
            body.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { first, _ in first })
        if fields["action"] == "resubscribe" {
            try database.setStatus(.active, ambassadorID: id, now: now())
            return LinkResponse(
                status: 200, location: nil, html: pages.render("resubscribed", language: ambassador.language))
        }
        guard fields["List-Unsubscribe"] == "One-Click" || fields["action"] == "unsubscribe" else {
            return LinkResponse(
                status: 400, location: nil, html: pages.render("notFound", language: ambassador.language))
        }
        try database.setStatus(.unsubscribed, ambassadorID: id, now: now())
        return LinkResponse(
            status: 200, location: nil,
            html: pages.render(
                "done", language: ambassador.language, action: "resubscribe", button: "resubscribeButton"))
    }

    private func expired(_ token: LinkToken, at time: Date) -> Bool {
        let weeks = token.kind == .visit ? settings.visitLinkWeeks : settings.shareLinkWeeks
        guard weeks > 0, token.kind != .unsubscribe else { return false }
        let age = time.timeIntervalSince(token.week.start(in: timeZone)) / (7 * 86_400)
        return age > Double(weeks + 1) || age < -1
    }
}
