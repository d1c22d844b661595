import AdvocateCore
import Foundation

/// Renders digests without touching the ledger: `--dry-run`, `--test` and `digest preview`.
public struct DigestPreview: Sendable {
    let database: AppDatabase
    let composer: DigestComposer
    let timeZone: TimeZone
    let now: @Sendable () -> Date

    /// Creates a previewer.
    public init(
        database: AppDatabase, composer: DigestComposer, timeZone: TimeZone, now: @escaping @Sendable () -> Date
    ) {
        self.database = database
        self.composer = composer
        self.timeZone = timeZone
        self.now = now
    }

    private func results(_ week: ISOWeek) throws -> ResultsBlock {
        composer.resultsBlock(try database.resultsSnapshot(digestWeek: week, timeZone: timeZone))
    }

    /// Writes every active ambassador's digest (up to `limit`) into `directory` as `.eml` files. Returns how many.
    public func dryRun(week: ISOWeek, directory: URL, limit: Int?) throws -> Int {
        let transport = try OutboxTransport(directory: directory)
        let session = try transport.makeSession()
        let items = try database.contentItems(week: week)
        let results = try results(week)
        var written = 0
        for ambassador in try database.ambassadors(status: .active) where written < (limit ?? .max) {
            guard
                let composed = composer.compose(
                    for: ambassador, weekItems: items, week: week, now: now(), results: results)
            else {
                continue
            }
            if case .temporary(let reason) = session.send(composer.outgoing(composed.message)) {
                throw MailError.setup(reason)
            }
            written += 1
        }
        return written
    }

    /// Sends one ambassador's digest (the named one, or the first active one with content) to `recipient` only.
    public func sendTest(week: ISOWeek, to recipient: String, as email: String?, transport: any MailTransport) throws
        -> String
    {
        let items = try database.contentItems(week: week)
        let results = try results(week)
        let candidates = try email.map { [try ambassador(email: $0)] } ?? database.ambassadors(status: .active)
        for ambassador in candidates {
            guard
                let composed = composer.compose(
                    for: ambassador, weekItems: items, week: week, now: now(), results: results, recipient: recipient)
            else { continue }
            let session = try transport.makeSession()
            defer { session.close() }
            switch session.send(composer.outgoing(composed.message)) {
            case .sent: return ambassador.email
            case .temporary(let reason), .permanent(let reason), .inDoubt(let reason), .unusable(let reason),
                .unreachable(let reason):
                throw MailError.transport(reason)
            }
        }
        throw MailError.setup("no ambassador has content in \(week); add content with `advocate content add`")
    }

    /// Writes `NAME.html`, `NAME.txt` and `NAME.eml` of one ambassador's digest into `directory`.
    public func preview(email: String, week: ISOWeek, directory: URL) throws -> [URL] {
        let ambassador = try ambassador(email: email)
        guard
            let composed = composer.compose(
                for: ambassador, weekItems: try database.contentItems(week: week), week: week, now: now(),
                results: try results(week))
        else { throw MailError.setup("\(ambassador.email) has no content in \(week): no digest would be sent") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let base = "digest-\(week)-\(ambassador.id ?? 0)"
        let files = [
            (directory.appendingPathComponent("\(base).html"), Data(composed.rendered.html.utf8)),
            (directory.appendingPathComponent("\(base).txt"), Data(composed.rendered.text.utf8)),
            (directory.appendingPathComponent("\(base).eml"), Data(composed.message.encoded())),
        ]
        for (url, data) in files { try data.write(to: url) }
        return files.map(\.0)
    }

    private func ambassador(email: String) throws -> Ambassador {
        let address = EmailAddress.normalized(email) ?? email
        guard let ambassador = try database.ambassador(email: address) else {
            throw StoreError.notFound("no ambassador with e-mail \(address)")
        }
        return ambassador
    }
}
