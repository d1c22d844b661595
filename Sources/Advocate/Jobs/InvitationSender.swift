import AdvocateCore
import Foundation

/// What an invitation run did.
public struct InvitationSummary: Sendable, Codable {
    public var sent = 0
    public var attempts = 0
    /// Invitations left in `sending` by a run that died, now in doubt.
    public var abandonedInDoubt = 0
    /// Invitations not sent because the relay could not be reached: left due, no attempt used. A run stops once
    /// the relay has been unreachable for `retryWithinRunSeconds`.
    public var unreachable = 0
    /// Totals per status after the run.
    public var totals: [String: Int] = [:]

    /// 0 when every invitation this run tried went out and none is waiting; 3 otherwise. (Earlier failures do not
    /// count: they are settled, and would otherwise make every later run exit 3.)
    public var exitCode: Int32 {
        attempts != sent || ["retry", "pending", "sending"].contains { (totals[$0] ?? 0) > 0 }
            ? SendSummary.partialExitCode : 0
    }
}

/// Sends queued invitations with the digest's ledger discipline: each is marked `sending` (committed) before its
/// end is handed to the relay, and its outcome is recorded after; a run killed at any moment leaves at most the
/// in-flight ones in doubt, and a re-run never mails anyone twice.
public final class InvitationSender: Sendable {
    let database: AppDatabase
    let notices: NoticeComposer
    let links: TrackedShareLinks
    let transport: any MailTransport
    let smtp: SMTPConfig
    let timeZone: TimeZone
    let now: @Sendable () -> Date

    /// Creates a sender.
    public init(
        database: AppDatabase, notices: NoticeComposer, links: TrackedShareLinks, transport: any MailTransport,
        smtp: SMTPConfig, timeZone: TimeZone, now: @escaping @Sendable () -> Date
    ) {
        self.database = database
        self.notices = notices
        self.links = links
        self.transport = transport
        self.smtp = smtp
        self.timeZone = timeZone
        self.now = now
    }

    /// Sends every pending invitation.
    public func run() throws -> InvitationSummary {
        let lock = try database.acquireSendLock(job: "invite")
        defer { withExtendedLifetime(lock) {} }
        var summary = InvitationSummary()
        summary.abandonedInDoubt = try database.markAbandonedInvitations(now: now())
        try database.settleInvitationsOfMembers(now: now())
        let state = Locked(RunState(budget: .max))
        let pool = try SendPool(transport: transport, settings: smtp)
        defer { pool.shutdown() }
        var cursor: Int64 = 0
        let patience = smtp.retryWithinRunSeconds
        // Once the relay has been unreachable for longer than the run's patience, what is left waits for the next
        // run (``RunState/relayGone(at:patience:after:)``).
        while state.withLock({ $0.stopReason == nil && !$0.relayGone(at: now(), patience: patience) }) {
            // A run whose lock is gone (its PostgreSQL session ended) may have a successor: it sends no more.
            guard lock.isHeld() else {
                throw StoreError.unavailable(
                    path: "database", reason: "this run lost its invitation lock (the connection to it ended)")
            }
            let batch = try database.dueInvitations(after: cursor, limit: 256)
            guard let last = batch.last else { break }
            cursor = last.id
            for invitation in batch { submit(invitation, pool: pool, state: state) }
        }
        pool.drain()
        if let reason = state.withLock({ $0.stopReason }) { throw MailError.transport(reason) }
        summary.totals = Dictionary(grouping: try database.invitations(), by: \.status.rawValue).mapValues(\.count)
        state.withLock {
            summary.sent = $0.sent
            summary.attempts = $0.attempts
            summary.unreachable = $0.unreachable
        }
        return summary
    }

    private func submit(_ invitation: InvitationListing, pool: SendPool, state: Locked<RunState>) {
        let (database, notices, links, now, timeZone) = (self.database, self.notices, self.links, self.now, timeZone)
        let (maxAttempts, patience, base) = (smtp.maxAttempts, smtp.retryWithinRunSeconds, smtp.retryBaseSeconds)
        // The same for every attempt: counted with an attempt that ends before its end is handed over.
        let messageID = "advocate.invite.\(invitation.id)@\(EmailAddress.domain(of: notices.mail.fromAddress))"
        pool.submit(
            SendJob(
                abandoned: { state.withLock { $0.drops(at: now(), patience: patience) } },
                prepare: {
                    // Erased or settled since it was queued: not sent.
                    guard (try? database.invitationIsDue(id: invitation.id)) == true else { return nil }
                    let week = ISOWeek(containing: now(), in: timeZone)
                    let message = notices.message(
                        .invite, to: invitation.email, name: invitation.name, language: invitation.language,
                        url: links.invitation(id: invitation.id, week: week), now: now(),
                        messageID: messageID, optOut: links.stopInvitations(invitationID: invitation.id, week: week))
                    return notices.outgoing(message)
                },
                skip: {},
                handedOver: { mail in
                    try database.markInvitationHandedOver(id: invitation.id, messageID: mail.messageID, now: now())
                },
                end: { outcome, reach, _ in
                    // Erased or settled while it was being sent: not sent, nothing to record.
                    guard reach != .withdrawn else { return }
                    // A message held back before its end, or turned away by a relay that could not be reached, was
                    // not tried: it does not use up an attempt, and it is always tried again (attempt 0 is below any
                    // maxAttempts).
                    let attempt = reach.isAttempt(outcome) ? invitation.attempts + 1 : 0
                    let entry = outcome.ledgerEntry(attempt: attempt, maxAttempts: maxAttempts)
                    do {
                        try database.recordInvitationOutcome(
                            id: invitation.id, status: entry.status, error: entry.error,
                            countingAttempt: reach == .beforeEnd && reach.isAttempt(outcome) ? messageID : nil,
                            now: now())
                    } catch {
                        state.withLock { $0.stopReason = "the ledger could not be written: \(error)" }
                    }
                    state.withLock { $0.note(outcome, reach: reach) }
                    // A relay that is down is not asked again at once: this connection pauses, ever longer.
                    if !outcome.isAttempt {
                        let time = now()
                        Thread.sleep(
                            forTimeInterval: state.withLock {
                                let delay = $0.relayDown(at: time, base: base)
                                return $0.pause(delay, at: time, patience: patience)
                            })
                    }
                }))
    }
}
