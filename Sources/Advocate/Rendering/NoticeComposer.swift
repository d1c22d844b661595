import AdvocateCore
import Foundation
import Mustache

/// The short mails around membership: the sign-up confirmation, "you are already in", the welcome, the invitation
/// and a fresh preferences link. One layout (`Templates/notice.html` and `notice.txt`) with the words of
/// `Templates/strings/membership.json` (`<kind>MailSubject`, `…Heading`, `…Body`, `…Button`, `…Note`).
public struct NoticeComposer: Sendable {
    /// Which mail.
    public enum Kind: String, Sendable, CaseIterable {
        case confirm, already, welcome, invite, freshLink
    }

    let html: MustacheTemplate
    let text: MustacheTemplate
    let pages: PageRenderer
    let mail: MailConfig
    let organization: String
    let timeZone: TimeZone
    let signers: [DKIMSigner]

    /// Loads the layout; `pages` supplies the words, `signers` DKIM-sign every message.
    public static func load(
        directory: URL, pages: PageRenderer, config: AdvocateConfig, signers: [DKIMSigner] = []
    ) throws -> NoticeComposer {
        NoticeComposer(
            html: try .advocate(named: "notice.html", in: directory),
            text: try .advocate(named: "notice.txt", in: directory), pages: pages, mail: config.mail,
            organization: config.organization, timeZone: config.timeZone, signers: signers)
    }

    /// The message of `kind` to `address` in `language`, with its button leading to `url`. `values` fill the
    /// words (`firstName`, `days`, …); `messageID` is fixed for ledger mails (invitations), fresh otherwise. An
    /// `optOut` link (an invitation's: never invite this address again) goes under the note, labelled with the
    /// words' `<kind>MailOptOut`, and into `List-Unsubscribe` with RFC 8058's one-click POST.
    public func message(
        _ kind: Kind, to address: String, name: String, language: Language, url: String, values: [String: Any] = [:],
        now: Date, messageID: String? = nil, optOut: String? = nil
    ) -> MailMessage {
        var fill = values
        fill["organization"] = organization
        if fill["firstName"] == nil {
            fill["firstName"] =
                Ambassador(email: address, name: name, language: language, networks: [], joinedAt: now)
                .firstName
        }
        let words = pages.words(language, fill)
        let prefix = "\(kind.rawValue)Mail"
        var context: [String: Any] = [
            "lang": language.rawValue, "subject": words["\(prefix)Subject"] ?? "",
            "heading": words["\(prefix)Heading"] ?? "", "body": words["\(prefix)Body"] ?? "",
            "note": words["\(prefix)Note"] ?? "", "button": ["url": url, "label": words["\(prefix)Button"] ?? url],
        ]
        if let optOut { context["optOut"] = ["url": optOut, "label": words["\(prefix)OptOut"] ?? optOut] }
        let domain = EmailAddress.domain(of: mail.fromAddress)
        let nonce = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return MailMessage(
            from: .init(name: mail.fromName, address: mail.fromAddress), to: .init(name: name, address: address),
            replyTo: mail.replyTo, subject: words["\(prefix)Subject"] ?? "", date: now, timeZone: timeZone,
            messageID: messageID ?? "advocate.\(kind.rawValue).\(nonce)@\(domain)", unsubscribeURL: optOut,
            text: text.render(context), html: html.render(context))
    }

    /// The message in an envelope (bounces to ``MailConfig/bounceAddress``), DKIM-signed when configured.
    public func outgoing(_ message: MailMessage) -> OutgoingMail {
        let data = message.encoded()
        return OutgoingMail(
            sender: mail.bounceAddress, recipient: message.to.address, messageID: message.messageID,
            data: DKIMSigner.signOrWarn(data, with: signers, time: message.date))
    }
}
