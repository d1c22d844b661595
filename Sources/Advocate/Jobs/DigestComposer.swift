import AdvocateCore
import Foundation

/// Turns an ambassador and the week's content into a complete message: rendering, headers, Message-ID.
public struct DigestComposer: Sendable {
    let renderer: DigestRenderer
    let templates: TemplateSet
    let leaderboard: PlanConfig.Leaderboard
    let links: any ShareLinks
    let mail: MailConfig
    let organization: String
    let timeZone: TimeZone

    /// Creates a composer.
    public init(renderer: DigestRenderer, templates: TemplateSet, links: any ShareLinks, config: AdvocateConfig) {
        self.renderer = renderer
        self.templates = templates
        leaderboard = config.plan.leaderboard
        self.links = links
        mail = config.mail
        organization = config.organization
        timeZone = config.timeZone
    }

    /// The Message-ID of an ambassador's digest of `week`: the same for every attempt, so a resend can be
    /// recognised as the same message.
    public func messageID(week: ISOWeek, ambassadorID: Int64, test: Bool = false) -> String {
        "advocate.\(week).\(ambassadorID)\(test ? ".test" : "")@\(EmailAddress.domain(of: mail.fromAddress))"
    }

    /// The digest message, or `nil` when no item of the week fits the ambassador. `recipient` overrides the address
    /// the message goes to (`--test`).
    public func compose(
        for ambassador: Ambassador, weekItems: [ContentItem], week: ISOWeek, now: Date, results: ResultsBlock,
        recipient: String? = nil
    ) -> (message: MailMessage, rendered: RenderedDigest)? {
        guard let id = ambassador.id,
            let rendered = renderer.render(
                for: ambassador, weekItems: weekItems, week: week, results: results.render(for: ambassador))
        else { return nil }
        let message = MailMessage(
            from: .init(name: mail.fromName, address: mail.fromAddress),
            to: .init(name: ambassador.name, address: recipient ?? ambassador.email), replyTo: mail.replyTo,
            subject: rendered.subject, date: now, timeZone: timeZone,
            messageID: messageID(week: week, ambassadorID: id, test: recipient != nil),
            unsubscribeURL: links.unsubscribe(ambassadorID: id, week: week),
            listID: "\(organization) <ambassadors.\(EmailAddress.domain(of: mail.fromAddress))>",
            text: rendered.text, html: rendered.html)
        return (message, rendered)
    }

    /// The results block of a run, over figures loaded once.
    public func resultsBlock(_ snapshot: ResultsSnapshot) -> ResultsBlock {
        ResultsBlock(templates: templates, leaderboard: leaderboard, snapshot: snapshot)
    }

    /// The message in an envelope, ready for a transport.
    public func outgoing(_ message: MailMessage) -> OutgoingMail {
        OutgoingMail(
            sender: mail.fromAddress, recipient: message.to.address, messageID: message.messageID,
            data: message.encoded())
    }
}
