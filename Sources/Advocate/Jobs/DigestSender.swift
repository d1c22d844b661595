import AdvocateCore
import Foundation

/// The weekly job: sends a week's digest to every active ambassador and keeps the send ledger so that it can be
/// killed at any moment and simply run again. Nobody gets the digest twice, nobody is skipped, and a message whose
/// fate is unknown is marked in doubt instead of resent.
public final class DigestSender: Sendable {
    /// What to send.
    public struct Options: Sendable {
        public var week: ISOWeek
        /// Attempt at most this many deliveries in this run.
        public var limit: Int?
        /// Put in-doubt deliveries back in the queue first.
        public var resendInDoubt = false

        /// Creates options.
        public init(week: ISOWeek, limit: Int? = nil, resendInDoubt: Bool = false) {
            self.week = week
            self.limit = limit
            self.resendInDoubt = resendInDoubt
        }
    }

    let database: AppDatabase
    let composer: DigestComposer
    let transport: any MailTransport
    let smtp: SMTPConfig
    let timeZone: TimeZone
    let now: @Sendable () -> Date
    let progress: ProgressReporter

    /// Creates a sender.
    public init(
        database: AppDatabase, composer: DigestComposer, transport: any MailTransport, smtp: SMTPConfig,
        timeZone: TimeZone, now: @escaping @Sendable () -> Date, progress: ProgressReporter
    ) {
        self.timeZone = timeZone
        self.database = database
        self.composer = composer
        self.transport = transport
        self.smtp = smtp
        self.now = now
        self.progress = progress
    }

    /// Runs the digest of `options.week`.
    public func run(_ options: Options) throws -> SendSummary {
        let started = Date()
        let lock = try database.acquireSendLock()
        defer { withExtendedLifetime(lock) {} }
        // The ledger commits twice per message from several threads: none of them waits for a checkpoint.
        let checkpoints = try? database.checkpointInBackground()
        defer { checkpoints?.stop() }
        var summary = SendSummary(week: options.week.description)
        // Housekeeping only: a failure here must not stop the week's digest.
        _ = try? database.purgeExpiredSignups(now: now())
        let digest = try database.beginDigest(week: options.week, now: now())
        // Replies a stopped run noted but did not commit settle their deliveries before the rest are put in doubt.
        let opened = try database.openOutcomeJournal()
        summary.recordedAfterStop = opened?.recorded ?? 0
        let journal = opened?.journal
        (summary.abandonedInDoubt, summary.requeuedAfterStop) = try database.markAbandonedInDoubt(
            digestID: digest.id, now: now())
        if options.resendInDoubt { try database.requeueInDoubt(digestID: digest.id, now: now()) }
        try database.requeueSkipped(digestID: digest.id, week: options.week, now: now())
        try database.enqueueDeliveries(digestID: digest.id, week: options.week, now: now())
        try database.settleInactive(digestID: digest.id, week: options.week, now: now())
        let items = try database.contentItems(week: options.week)
        let results = composer.resultsBlock(try database.resultsSnapshot(digestWeek: options.week, timeZone: timeZone))
        let open = try database.deliveryCounts(digestID: digest.id)
        progress.begin(total: min(options.limit ?? .max, (open[.pending] ?? 0) + (open[.retry] ?? 0)))

        let state = Locked(RunState(budget: options.limit ?? .max))
        // Emptied once the ledger holds every reply noted in it: after the pool's last job (defers run in reverse).
        // (If it cannot be emptied, the next run empties it after finding every line recorded already.)
        defer { if state.withLock({ !$0.journalUnrecorded }) { try? journal?.empty() } }
        // Claimed deliveries this run did not finish go back to the queue, for the next run or another sender:
        // after the pool has finished its queued jobs (defers run in reverse).
        defer { try? database.releaseClaims(digestID: digest.id, sender: lock.sender) }
        let pool = try SendPool(transport: transport, settings: smtp)
        defer { pool.shutdown() }

        /// Whether the relay will have turned every message away for longer than the run's patience `after` seconds
        /// from now: then nothing more is claimed or waited for, and what is left waits (`retry`, no attempt used)
        /// for the next run.
        func relayGone(after wait: TimeInterval = 0) -> Bool {
            state.withLock { $0.relayGone(at: now(), patience: smtp.retryWithinRunSeconds, after: wait) }
        }
        while true {
            var submitted = 0
            pass: while true {
                let budget = state.withLock { $0.stopReason == nil ? $0.budget : 0 }
                guard budget > 0, !relayGone() else { break }
                // A run whose sender lock is gone counts as dead to the others: it must not claim or send more.
                guard lock.isHeld() else {
                    throw StoreError.unavailable(
                        path: "database", reason: "this run lost its sender lock (the connection to it ended)")
                }
                // Claimed a batch at a time: other senders of this week (PostgreSQL) take other rows.
                let batch = try database.claimDeliveries(
                    digestID: digest.id, now: now(), sender: lock.sender, limit: min(256, budget))
                if batch.isEmpty { break }
                for delivery in batch {
                    guard !relayGone(), state.withLock({ $0.take() }) else { break pass }
                    submitted += 1
                    submit(
                        delivery, items: items, results: results, week: options.week, pool: pool, state: state,
                        sender: lock.sender, journal: journal.map { ($0, digest.id) })
                }
            }
            pool.drain()
            // Nothing of this run is in flight now: deliveries it claimed but did not send (dropped once the relay
            // was gone, or left in a batch when the pass stopped) are given back, so that the next pass can claim
            // them again and the retry wait below never waits for a row nobody can claim.
            try database.releaseClaims(digestID: digest.id, sender: lock.sender)
            if let reason = state.withLock({ $0.stopReason }) { throw MailError.transport(reason) }
            if relayGone() { break }
            if submitted > 0 && state.withLock({ $0.budget > 0 }) { continue }
            if database.allowsSeveralSenders {
                // Another sender of this week may have died meanwhile: its work comes back to the queue.
                let settled = try database.markAbandonedInDoubt(digestID: digest.id, now: now())
                summary.abandonedInDoubt += settled.inDoubt
                summary.requeuedAfterStop += settled.givenBack
                if settled.givenBack > 0 && state.withLock({ $0.budget > 0 }) { continue }
            }
            // Nothing due now: wait for the next retry if it falls within the run's patience.
            guard state.withLock({ $0.budget > 0 }), let next = try database.nextRetryTime(digestID: digest.id)
            else { break }
            let wait = next.timeIntervalSince(now())
            guard wait <= smtp.retryWithinRunSeconds, !relayGone(after: wait) else { break }
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
        progress.end()
        // People who unsubscribed or were removed while this run sent.
        try database.settleInactive(digestID: digest.id, week: options.week, now: now())
        _ = try database.completeDigestIfDone(digestID: digest.id, now: now())
        let totals = try database.deliveryCounts(digestID: digest.id)
        summary.totals = Dictionary(uniqueKeysWithValues: totals.map { ($0.key.rawValue, $0.value) })
        state.withLock {
            summary.sentThisRun = $0.sent
            summary.attemptsThisRun = $0.attempts
            summary.heldBackThisRun = $0.heldBack
            summary.unreachableThisRun = $0.unreachable
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.inDoubtShare = pool.inDoubtShare
        summary.inDoubtSecondsPerMessage = pool.meanInDoubt
        return summary
    }

    private func submit(
        _ delivery: DueDelivery, items: [ContentItem], results: ResultsBlock, week: ISOWeek, pool: SendPool,
        state: Locked<RunState>, sender: Int64, journal: (OutcomeJournal, digestID: Int64)?
    ) {
        let (database, composer, now, smtp, progress) = (
            self.database, self.composer, self.now, self.smtp, self.progress
        )
        // The same for every attempt: counted with an attempt that ends before its end is handed over.
        let messageID = composer.messageID(week: week, ambassadorID: delivery.ambassador.id ?? 0)
        let patience = smtp.retryWithinRunSeconds
        pool.submit(
            SendJob(
                abandoned: { state.withLock { $0.drops(at: now(), patience: patience) } },
                prepare: {
                    composer.compose(
                        for: delivery.ambassador, weekItems: items, week: week, now: now(), results: results
                    ).map { composer.outgoing($0.message) }
                },
                skip: {
                    AdvocateMetrics.delivery(DeliveryStatus.skipped.rawValue)
                    do {
                        try database.recordOutcome(
                            deliveryID: delivery.id, status: .skipped,
                            error: "no content for this ambassador this week",
                            now: now(), sender: sender)
                    } catch {
                        state.withLock { $0.stopReason = "the ledger could not be written: \(error)" }
                    }
                    progress.advance()
                },
                handedOver: { mail in
                    try database.markHandedOver(
                        deliveryID: delivery.id, messageID: mail.messageID, now: now(), sender: sender)
                },
                end: { outcome, reach, kept in
                    // No longer due when its end was to leave (the person unsubscribed or was removed meanwhile): not
                    // sent, and the ledger has settled it.
                    guard reach != .withdrawn else {
                        state.withLock { $0.note(outcome, reach: reach) }
                        return progress.advance()
                    }
                    let time = now()
                    // A message held back before its end, or not sent because the relay could not be reached, was
                    // not tried: it does not use up an attempt, and it is always tried again (attempt 0 is below any
                    // maxAttempts); while the relay stays unreachable, ever later.
                    let attempt = reach.isAttempt(outcome) ? delivery.attempts + 1 : 0
                    let entry = outcome.ledgerEntry(attempt: attempt, maxAttempts: smtp.maxAttempts)
                    let delay =
                        outcome.isAttempt
                        ? smtp.retryBaseSeconds * pow(2, Double(attempt - 1))
                        : state.withLock { $0.relayDown(at: time, base: smtp.retryBaseSeconds) }
                    let next = entry.retry ? time.addingTimeInterval(delay) : nil
                    AdvocateMetrics.delivery(entry.status.rawValue)
                    // The reply to an end that was handed over is noted first: from then on a crash cannot lose it,
                    // and the next message's end need not wait for the ledger's commit.
                    var noted = false
                    if reach == .handedOver, let (journal, digestID) = journal {
                        noted = journal.append(
                            OutcomeJournal.Entry(
                                digestID: digestID, deliveryID: delivery.id, attempt: attempt, status: entry.status,
                                error: entry.error, nextAttemptAt: next, at: time))
                        if noted { kept() }
                    }
                    do {
                        try database.recordOutcome(
                            deliveryID: delivery.id, status: entry.status, error: entry.error, nextAttemptAt: next,
                            countingAttempt: reach == .beforeEnd && reach.isAttempt(outcome) ? messageID : nil,
                            now: time, sender: sender)
                    } catch {
                        state.withLock {
                            $0.stopReason = "the ledger could not be written: \(error)"
                            if noted { $0.journalUnrecorded = true }
                        }
                    }
                    state.withLock { $0.note(outcome, reach: reach) }
                    progress.advance()
                    if !outcome.isAttempt {
                        Thread.sleep(
                            forTimeInterval: state.withLock { $0.pause(delay, at: time, patience: patience) })
                    }
                }))
    }
}
