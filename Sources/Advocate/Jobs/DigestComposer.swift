import AdvocateCore
import Foundation

/// Turns an ambassador and the week's content into a complete message: rendering, headers, Message-ID.
public struct DigestComposer: Sendable {
    /// The renderer behind the messages.
    public let renderer: DigestRenderer
    let templates: TemplateSet
    let leaderboard: PlanConfig.Leaderboard
    let links: any ShareLinks
    let mail: MailConfig
    let organization: String
    let timeZone: TimeZone
    let signers: [DKIMSigner]

    /// Creates a composer; `signers` DKIM-sign every message.
    public init(
        renderer: DigestRenderer, templates: TemplateSet, links: any ShareLinks, config: AdvocateConfig,
        signers: [DKIMSigner] = []
    ) {
        self.signers = signers
        self.renderer = renderer
        self.templates = templates
        leaderboard = config.plan.leaderboard
        self.links = links
        mail = config.mail
        organization = config.organization
        timeZone = config.timeZone
    }

    /// The Message-ID of an ambassador's digest of `week`: the same for every attempt, so a resend can be
    /// recognised as the same message. A test message gets a fresh one each time, so mail clients never thread or
    /// drop a test as a duplicate of the real digest or of an earlier test.
    public func messageID(week: ISOWeek, ambassadorID: Int64, test: Bool = false) -> String {
        let domain = EmailAddress.domain(of: mail.fromAddress)
        guard test else { return "advocate.\(week).\(ambassadorID)@\(domain)" }
        let nonce = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return "advocate.\(week).\(ambassadorID).test.\(nonce)@\(domain)"
    }

    /// The digest message, or `nil` when no item of the week fits the ambassador. `recipient` makes it a test
    /// message to that address (`--test`, the editor's test send): its links count nothing and unsubscribe nobody,
    /// it offers no one-click unsubscribe, and it has its own Message-ID.
    public func compose(
        for ambassador: Ambassador, weekItems: [ContentItem], week: ISOWeek, now: Date, results: ResultsBlock,
        recipient: String? = nil
    ) -> (message: MailMessage, rendered: RenderedDigest)? {
        let test = recipient != nil
        guard let id = ambassador.id,
            let rendered = renderer.render(
                for: ambassador, weekItems: weekItems, week: week, results: results.render(for: ambassador),
                test: test)
        else { return nil }
        var message = MailMessage(
            from: .init(name: mail.fromName, address: mail.fromAddress),
            // A test to another address (an inbox-placement service, a colleague) does not carry the person's name.
            to: .init(
                name: recipient == nil || recipient == ambassador.email ? ambassador.name : "",
                address: recipient ?? ambassador.email), replyTo: mail.replyTo,
            subject: rendered.subject, date: now, timeZone: timeZone,
            messageID: messageID(week: week, ambassadorID: id, test: test),
            unsubscribeURL: (test ? links.forTests : links).unsubscribe(ambassadorID: id, week: week),
            listID: .init(name: organization, id: "ambassadors.\(EmailAddress.domain(of: mail.fromAddress))"),
            text: rendered.text, html: rendered.html)
        message.oneClickUnsubscribe = !test
        return (message, rendered)
    }

    /// The results block of a run, over figures loaded once.
    public func resultsBlock(_ snapshot: ResultsSnapshot) -> ResultsBlock {
        ResultsBlock(templates: templates, leaderboard: leaderboard, snapshot: snapshot)
    }

    /// The message in an envelope (bounces to ``MailConfig/bounceAddress``), DKIM-signed when configured.
    public func outgoing(_ message: MailMessage) -> OutgoingMail {
        let data = message.encoded()
        return OutgoingMail(
            sender: mail.bounceAddress, recipient: message.to.address, messageID: message.messageID,
            data: DKIMSigner.signOrWarn(data, with: signers, time: message.date))
    }
}
