import AdvocateCore
import Foundation

extension AppContext {
    /// The links in digests. This is the one line that decides between plain share dialogs and tracked links.
    public func makeShareLinks() throws -> any ShareLinks {
        let sealer = LinkSealer(keyring: try secrets.linkKeys())
        return config.links.tracked
            ? TrackedShareLinks(baseURL: config.publicBaseURL, sealer: sealer)
            : IntentShareLinks(baseURL: config.publicBaseURL, sealer: sealer)
    }

    /// The renderer and message builder, with the templates compiled once.
    public func makeComposer() throws -> DigestComposer {
        let links = try makeShareLinks()
        let templates = try TemplateSet.load(directory: config.resolve(config.templatesDirectory))
        let renderer = DigestRenderer(
            templates: templates, organization: config.organization, links: links, plan: config.plan,
            look: config.digest)
        return DigestComposer(
            renderer: renderer, templates: templates, links: links, config: config,
            signers: try secrets.dkimSigner(config.mail))
    }

    /// The configured transport: the outbox folder or SMTP through libcurl.
    public func makeTransport() throws -> any MailTransport {
        switch config.mail.transport {
        case .outbox:
            return try OutboxTransport(directory: config.resolve(config.mail.outboxDirectory))
        case .smtp:
            return CurlSMTPTransport(
                settings: config.mail.smtp,
                password: config.mail.smtp.username == nil ? nil : try secrets.requireSMTPPassword(),
                caFile: config.mail.smtp.caFile.map { config.resolve($0).path },
                heloDomain: EmailAddress.domain(of: config.mail.fromAddress))
        }
    }

    /// The weekly send job over the configured store and transport.
    public func makeSender(database: AppDatabase, progress: ProgressReporter = ProgressReporter()) throws
        -> DigestSender
    {
        DigestSender(
            database: database, composer: try makeComposer(), transport: try makeTransport(),
            smtp: config.mail.smtp, timeZone: config.timeZone, now: now, progress: progress)
    }
}

extension AppContext {
    /// The membership mails (confirmation, welcome, invitation), with the server's page words.
    public func makeNoticeComposer() throws -> NoticeComposer {
        let templates = config.resolve(config.templatesDirectory)
        return try NoticeComposer.load(
            directory: templates, pages: try PageRenderer.load(directory: templates), config: config,
            signers: try secrets.dkimSigner(config.mail))
    }

    /// The invitation job over the configured store and transport.
    public func makeInvitationSender(database: AppDatabase) throws -> InvitationSender {
        InvitationSender(
            database: database, notices: try makeNoticeComposer(),
            links: TrackedShareLinks(
                baseURL: config.publicBaseURL, sealer: LinkSealer(keyring: try secrets.linkKeys())),
            transport: try makeTransport(), smtp: config.mail.smtp, timeZone: config.timeZone, now: now)
    }
}
