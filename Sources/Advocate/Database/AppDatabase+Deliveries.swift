import AdvocateCore
import Foundation

/// A digest: the mailing of one ISO week.
public struct DigestRecord: Sendable, Equatable, Codable {
    /// The store's identifier.
    public var id: Int64
    /// The week it is for.
    public var week: ISOWeek
}

/// One delivery that is due, with the ambassador it goes to.
public struct DueDelivery: Sendable {
    /// The delivery's identifier.
    public var id: Int64
    /// Attempts made so far.
    public var attempts: Int
    /// The recipient.
    public var ambassador: Ambassador
}

/// A delivery as listed for the operator.
public struct DeliveryListing: Sendable, Codable {
    public var id: Int64
    public var email: String?
    public var status: DeliveryStatus
    public var attempts: Int
    public var lastError: String?
    public var messageID: String?
    public var updatedAt: Date
}

extension AppDatabase {
    /// The digest of `week`, created on first use.
    public func beginDigest(week: ISOWeek, now: Date) throws -> DigestRecord {
        try write { db in
            try db.execute(
                sql: "INSERT INTO digest (week, createdAt) VALUES (?, ?) ON CONFLICT(week) DO NOTHING",
                arguments: [week.description, now])
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM digest WHERE week = ?", arguments: [week.description])!
            return DigestRecord(id: id, week: week)
        }
    }

    /// Adds a pending delivery for every active ambassador whose schedule includes `week` (not paused, and their
    /// week when they chose every other week) and who has none in this digest yet, so people who joined after the
    /// week's first run are included on the next. Returns how many were added.
    @discardableResult
    public func enqueueDeliveries(digestID: Int64, week: ISOWeek, now: Date) throws -> Int {
        try write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO delivery (digestId, ambassadorId, status, createdAt, updatedAt)
                    VALUES (?, ?, 'pending', ?, ?) ON CONFLICT(digestId, ambassadorId) DO NOTHING
                    """)
            var added = 0
            for row in try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT id, frequency, frequencyAnchor, pausedUntil FROM ambassador a WHERE status = 'active'
                      AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.digestId = ? AND d.ambassadorId = a.id)
                    """, arguments: [digestID])
            where Self.schedule(row).includes(week) {
                try insert.execute(arguments: [digestID, row["id"] as Int64, now, now])
                added += db.changesCount
            }
            return added
        }
    }

    /// The delivery schedule in an `ambassador` row.
    static func schedule(_ row: SQLRow) -> DeliverySchedule {
        DeliverySchedule(
            frequency: Frequency(rawValue: row["frequency"]) ?? .weekly, anchorWeek: row["frequencyAnchor"],
            pausedUntil: (row["pausedUntil"] as String?).flatMap(CalendarDay.init(parsing:)))
    }

    /// Settles what a run that died left: deliveries in `sending` had their end handed to the relay and are in doubt
    /// (they may have arrived); the deliveries it had claimed certainly did not arrive and are given back to the
    /// queue, and so are deliveries left in `sending` without their end's note (by versions that marked `sending`
    /// before the transaction). On SQLite every other run is dead (the send lock is exclusive); on PostgreSQL a run
    /// is alive while its sender lock is held, and live runs' deliveries are left alone. Returns how many were put in
    /// doubt and how many given back.
    @discardableResult
    public func markAbandonedInDoubt(digestID: Int64, now: Date) throws -> (inDoubt: Int, givenBack: Int) {
        try write { db in
            let dead = Self.deadSender(db)
            try db.execute(
                sql: """
                    UPDATE delivery SET status = 'inDoubt', updatedAt = ?, claimedBy = NULL,
                        lastError = 'the sending process stopped after the end of this message was handed over'
                    WHERE digestId = ? AND status = 'sending' AND handedOverAt IS NOT NULL AND \(dead)
                    """, arguments: [now, digestID])
            let inDoubt = db.changesCount
            try db.execute(
                sql: """
                    UPDATE delivery SET status = 'pending', updatedAt = ?, claimedBy = NULL,
                        lastError = 'the sending process stopped before the end of this message was handed over'
                    WHERE digestId = ? AND status = 'sending' AND handedOverAt IS NULL AND \(dead)
                    """, arguments: [now, digestID])
            // (Not one handed over since the statement before: on PostgreSQL a sender that lost its lock may still
            // hand an end over in between; it stays `sending`, in doubt on the next call, and is never sent twice.)
            let requeued = db.changesCount
            try db.execute(
                sql: """
                    UPDATE delivery SET claimedBy = NULL
                    WHERE digestId = ? AND status IN ('pending', 'retry') AND claimedBy IS NOT NULL AND \(dead)
                    """, arguments: [digestID])
            return (inDoubt, requeued + db.changesCount)
        }
    }

    /// Opens the digest run's journal of replies (``OutcomeJournal``; SQLite only: nil on PostgreSQL, whose runs
    /// keep each message in doubt until its outcome is committed) and first records what a stopped run noted there
    /// but had not committed, then empties it. Returns the journal and how many deliveries it settled. Call it while
    /// holding the digest send lock, before ``markAbandonedInDoubt(digestID:now:)``: a delivery whose reply was
    /// noted is then settled by that reply instead of being put in doubt. The replies may belong to any week's digest:
    /// a run of another week records them too (and counts them in its own summary).
    func openOutcomeJournal() throws -> (journal: OutcomeJournal, recorded: Int)? {
        guard let sqlite = backend as? SQLiteStore else { return nil }
        let journal = try OutcomeJournal(databasePath: sqlite.fileURL.path)
        let entries = try journal.entries()
        let recorded = entries.isEmpty ? 0 : try recordJournaled(entries)
        try journal.empty()
        return (journal, recorded)
    }

    /// Records noted replies in one transaction, in the order they were noted: each only on the attempt it answers,
    /// and only while that attempt is still in `sending` (a reply the ledger holds already, or one to an earlier
    /// attempt, changes nothing). Returns how many deliveries it settled.
    func recordJournaled(_ entries: [OutcomeJournal.Entry]) throws -> Int {
        try write { db in
            var recorded = 0
            let update = try db.cachedStatement(
                sql: """
                    UPDATE delivery SET status = ?, lastError = ?, nextAttemptAt = ?, updatedAt = ?,
                        claimedBy = NULL, sentAt = CASE WHEN ? = 'sent' THEN ? ELSE sentAt END
                    WHERE id = ? AND digestId = ? AND status = 'sending' AND attempts = ?
                      AND handedOverAt IS NOT NULL
                    """)
            for entry in entries {
                try update.execute(
                    arguments: [
                        entry.status.rawValue, entry.error, entry.nextAttemptAt, entry.at, entry.status.rawValue,
                        entry.at, entry.deliveryID, entry.digestID, entry.attempt,
                    ])
                recorded += db.changesCount
            }
            return recorded
        }
    }

    /// Whether the run that claimed a `delivery` row is gone: always on SQLite (one run at a time); on PostgreSQL
    /// when no session holds its advisory lock (``SendLock/sender``) any longer.
    static func deadSender(_ db: any SQLSession) -> String {
        guard db.dialect == .postgres else { return "1 = 1" }
        return """
            (claimedBy IS NULL OR claimedBy NOT IN (
                SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks
                WHERE locktype = 'advisory' AND objsubid = 1 AND granted))
            """
    }

    /// Claims up to `limit` due deliveries of the digest for the run `sender`, in delivery order, and returns them:
    /// pending ones and retries whose time has come, of ambassadors still active, that no run has claimed. On
    /// PostgreSQL rows another run is claiming at this moment are skipped (`FOR UPDATE SKIP LOCKED`), so several
    /// senders share the work and never take the same delivery.
    public func claimDeliveries(digestID: Int64, now: Date, sender: Int64, limit: Int) throws -> [DueDelivery] {
        let claimed = try writeStatement { db in
            if db.dialect == .postgres {
                return try Int64.fetchAll(
                    db,
                    sql: """
                        UPDATE delivery SET claimedBy = ? WHERE id IN (
                            SELECT d.id FROM delivery d JOIN ambassador a ON a.id = d.ambassadorId
                            WHERE d.digestId = ? AND a.status = 'active' AND d.claimedBy IS NULL
                              AND (d.status = 'pending' OR (d.status = 'retry' AND d.nextAttemptAt <= ?))
                            ORDER BY d.id LIMIT ? FOR UPDATE OF d SKIP LOCKED)
                        RETURNING id
                        """,
                    arguments: [sender, digestID, now, limit])
            }
            // Two walks of the (digestId, status) index in id order, merged, that stop at the limit: one scan of
            // the whole digest with a sort made every claim cost as much as the week's sent rows (quadratic over a
            // run of 100,000).
            return try Int64.fetchAll(
                db,
                sql: """
                    UPDATE delivery SET claimedBy = ? WHERE id IN (
                        SELECT d.id FROM delivery d JOIN ambassador a ON a.id = d.ambassadorId
                        WHERE d.digestId = ? AND d.status = 'pending' AND d.claimedBy IS NULL AND a.status = 'active'
                        UNION ALL
                        SELECT d.id FROM delivery d JOIN ambassador a ON a.id = d.ambassadorId
                        WHERE d.digestId = ? AND d.status = 'retry' AND d.claimedBy IS NULL AND d.nextAttemptAt <= ?
                          AND a.status = 'active'
                        ORDER BY 1 LIMIT ?)
                    RETURNING id
                    """,
                arguments: [sender, digestID, digestID, now, limit])
        }
        guard !claimed.isEmpty else { return [] }
        return try readStatement { db in
            try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT d.id AS deliveryId, d.attempts, a.* FROM delivery d JOIN ambassador a ON a.id = d.ambassadorId
                    WHERE d.id IN (\(claimed.map(String.init).joined(separator: ", "))) ORDER BY d.id
                    """
            ).map { row in
                DueDelivery(id: row["deliveryId"], attempts: row["attempts"], ambassador: try Self.ambassador(row))
            }
        }
    }

    /// Gives back the deliveries `sender` claimed but did not hand the end of over, for other runs to take.
    public func releaseClaims(digestID: Int64, sender: Int64) throws {
        try writeStatement { db in
            try db.execute(
                sql: """
                    UPDATE delivery SET claimedBy = NULL
                    WHERE digestId = ? AND claimedBy = ? AND status IN ('pending', 'retry')
                    """, arguments: [digestID, sender])
        }
    }

    /// Notes that the end of a delivery's message is about to be handed to the relay, and counts the attempt: one
    /// commit that moves the delivery to `sending` with its Message-ID, committed before the end leaves. Until then
    /// the delivery is only claimed, and a run that dies leaves nothing to settle but its claim (given back: the
    /// message certainly did not go). Throws ``NoLongerDue`` when the delivery is no longer due, or no longer this
    /// run's: another sender settled it meanwhile, its claim was dropped, or its ambassador paused or left since it
    /// was claimed (usually settled already by that change, ``settleUnsendable(_:ambassadorID:now:)``; a removal or
    /// a status set some other way is settled as `skipped` here, with the reason). The end of the message is never
    /// sent. With `sender`, fails when another run holds the claim (this one lost its lock):
    /// the end is not sent either.
    public func markHandedOver(deliveryID: Int64, messageID: String, now: Date, sender: Int64? = nil) throws {
        try writeStatement { db in
            // Cached (on SQLite): these statements run for every message of a send.
            try db.cachedStatement(
                sql: """
                    UPDATE delivery SET status = 'sending', attempts = attempts + 1, messageId = ?, updatedAt = ?,
                        handedOverAt = ?
                    WHERE id = ? AND status IN ('pending', 'retry')\(Self.owned(sender))
                      AND \(Self.ambassadorActive)
                    """
            ).execute(arguments: [messageID, now, now, deliveryID] + Self.owner(sender))
            if db.changesCount == 0 { try Self.refuseHandOver(db, deliveryID: deliveryID, sender: sender, now: now) }
        }
    }

    /// For a statement on `delivery`: its ambassador exists and is active.
    private static let ambassadorActive =
        "EXISTS (SELECT 1 FROM ambassador a WHERE a.id = delivery.ambassadorId AND a.status = 'active')"

    /// Why a delivery cannot be sent to an ambassador of this status (nil: removed); nil for an active one.
    private static func leftReason(_ status: String?) -> String? {
        switch status {
        case nil: "the ambassador was removed"
        case "active": nil
        case let status?: "the ambassador is \(status)"
        }
    }

    /// The rare path of ``markHandedOver(deliveryID:messageID:now:sender:)``, which changed no row: tells a takeover
    /// (another run's claim, which stops this one) from a delivery that is no longer due or no longer this run's.
    private static func refuseHandOver(_ db: any SQLSession, deliveryID: Int64, sender: Int64?, now: Date) throws
        -> Never
    {
        let row = try SQLRow.fetchOne(
            db,
            sql: """
                SELECT d.status, d.claimedBy, a.status AS ambassadorStatus
                FROM delivery d LEFT JOIN ambassador a ON a.id = d.ambassadorId WHERE d.id = ?
                """, arguments: [deliveryID])
        // Settled meanwhile (its claim may be gone with it): not a takeover.
        guard let row, ["pending", "retry"].contains(row["status"] as String) else { throw NoLongerDue(id: deliveryID) }
        let holder = row["claimedBy"] as Int64?
        if let sender, holder != sender, holder != nil {
            throw StoreError.conflict(
                "delivery \(deliveryID) was taken over by another sender (this run's sender lock was lost); "
                    + "its message was not finished")
        }
        // Its claim was dropped meanwhile (settled, then queued again when the person came back; or given back by a
        // run that took this one for dead): still due, but for a run that claims it anew.
        if sender != nil && holder == nil { throw NoLongerDue(id: deliveryID) }
        // The person left since the claim: settled here, and given up by this run (unless they came back meanwhile).
        if let reason = leftReason(row["ambassadorStatus"]) {
            try db.execute(
                sql: """
                    UPDATE delivery SET status = 'skipped', updatedAt = ?, nextAttemptAt = NULL, lastError = ?,
                        claimedBy = NULL
                    WHERE id = ? AND status IN ('pending', 'retry') AND NOT \(ambassadorActive)
                    """,
                arguments: [now, reason + " (while the message was being sent: it was not finished)", deliveryID])
        }
        throw NoLongerDue(id: deliveryID)
    }

    /// Puts in-doubt deliveries back in the queue (`--resend-in-doubt`). Returns how many.
    @discardableResult
    public func requeueInDoubt(digestID: Int64, now: Date) throws -> Int {
        try move(digestID: digestID, from: .inDoubt, to: .pending, now: now)
    }

    /// Puts skipped deliveries of active ambassadors whose schedule includes `week` back in the queue, so that
    /// content added later in the week reaches people who had nothing before, and people who re-subscribed or ended
    /// a pause get the week's digest. A person still paused or off that week is not reopened, not even for a moment:
    /// on PostgreSQL another sender may claim a reopened delivery before this run settles it again. Returns how many.
    @discardableResult
    public func requeueSkipped(digestID: Int64, week: ISOWeek, now: Date) throws -> Int {
        try write { db in
            let reopen = try db.cachedStatement(
                sql: "UPDATE delivery SET status = 'pending', updatedAt = ? WHERE id = ? AND status = 'skipped'")
            var reopened = 0
            for row in try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT d.id AS deliveryId, a.frequency, a.frequencyAnchor, a.pausedUntil
                    FROM delivery d JOIN ambassador a ON a.id = d.ambassadorId
                    WHERE d.digestId = ? AND d.status = 'skipped' AND a.status = 'active'
                    """, arguments: [digestID])
            where Self.schedule(row).skipReason(for: week) == nil {
                try reopen.execute(arguments: [now, row["deliveryId"] as Int64])
                reopened += db.changesCount
            }
            return reopened
        }
    }

    /// Settles the deliveries that can no longer be sent because their ambassador unsubscribed, is not active, was
    /// removed, or paused or skips this week since: they become `skipped` with the reason, so they no longer count
    /// as outstanding. (Someone who re-subscribes in the same week is queued again by
    /// ``requeueSkipped(digestID:now:)``.) Returns how many.
    @discardableResult
    public func settleInactive(digestID: Int64, week: ISOWeek, now: Date) throws -> Int {
        try write { db in
            try Self.settleUnsendable(
                db,
                rows: """
                    SELECT d.id AS deliveryId, CAST(? AS TEXT) AS week, a.status, a.frequency, a.frequencyAnchor, a.pausedUntil
                    FROM delivery d LEFT JOIN ambassador a ON a.id = d.ambassadorId
                    WHERE d.digestId = ? AND d.status IN ('pending', 'retry')
                    """, arguments: [week.description, digestID], now: now)
        }
    }

    /// Settles, in the caller's transaction, the open deliveries of one ambassador that can no longer be sent after
    /// a change of their status or schedule, in every digest: a pause or an unsubscribe takes effect at once, also
    /// for a digest being sent (its hand-over then finds the delivery settled and withholds the end).
    @discardableResult
    static func settleUnsendable(_ db: any SQLSession, ambassadorID: Int64, now: Date) throws -> Int {
        // Driven from the digests, one a week, each probing the (digestId, ambassadorId) key: CROSS JOIN fixes
        // that order on SQLite (before delivery_ambassador it kept SQLite from scanning every delivery; PostgreSQL
        // plans it from its statistics).
        try settleUnsendable(
            db,
            rows: """
                SELECT d.id AS deliveryId, g.week, a.status, a.frequency, a.frequencyAnchor, a.pausedUntil
                FROM digest g CROSS JOIN delivery d LEFT JOIN ambassador a ON a.id = d.ambassadorId
                WHERE d.digestId = g.id AND d.ambassadorId = ? AND d.status IN ('pending', 'retry')
                """, arguments: [ambassadorID], now: now)
    }

    /// Settles as `skipped`, with the reason, each delivery of `rows` (`deliveryId`, the digest's `week`, and the
    /// ambassador's `status` and schedule) that cannot be sent: its ambassador left, or their schedule skips the week.
    private static func settleUnsendable(_ db: any SQLSession, rows: String, arguments: SQLArguments, now: Date)
        throws -> Int
    {
        let settle = try db.cachedStatement(
            sql: """
                UPDATE delivery SET status = 'skipped', updatedAt = ?, nextAttemptAt = NULL, lastError = ?,
                    claimedBy = NULL
                WHERE id = ? AND status IN ('pending', 'retry')
                """)
        var settled = 0
        for row in try SQLRow.fetchAll(db, sql: rows, arguments: arguments) {
            let status = row["status"] as String?
            let reason: String?
            if status == "active", let week = try? ISOWeek(parsing: row["week"]) {
                reason = schedule(row).skipReason(for: week)
            } else {
                reason = leftReason(status)
            }
            guard let reason else { continue }
            // Re-checked on the row as it is now: on PostgreSQL a sender may have handed it over since the SELECT.
            try settle.execute(arguments: [now, reason, row["deliveryId"] as Int64])
            settled += db.changesCount
        }
        return settled
    }

    /// Moves every delivery of a digest from one status to another, optionally noting why.
    private func move(
        digestID: Int64, from old: DeliveryStatus, to new: DeliveryStatus, now: Date, error: String? = nil
    ) throws -> Int {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE delivery SET status = ?, updatedAt = ?, lastError = COALESCE(?, lastError)
                    WHERE digestId = ? AND status = ?
                    """,
                arguments: [new.rawValue, now, error, digestID, old.rawValue])
            return db.changesCount
        }
    }

    /// The earliest time a retry of this digest is due, if any is waiting that no run holds a claim on.
    public func nextRetryTime(digestID: Int64) throws -> Date? {
        try read { db in
            try Date.fetchOne(
                db,
                sql: """
                    SELECT MIN(d.nextAttemptAt) FROM delivery d JOIN ambassador a ON a.id = d.ambassadorId
                    WHERE d.digestId = ? AND d.status = 'retry' AND d.claimedBy IS NULL AND a.status = 'active'
                    """,
                arguments: [digestID])
        }
    }

    /// Records the outcome of an attempt; with `sender`, only while that run holds the claim (a delivery another
    /// sender settled as in doubt meanwhile stays in doubt). An attempt that ended before its end was handed over
    /// (``markHandedOver(deliveryID:messageID:now:sender:)`` counts the others) is counted here when its Message-ID
    /// is given as `countingAttempt`; a message held back before its end is not an attempt and passes `nil`.
    public func recordOutcome(
        deliveryID: Int64, status: DeliveryStatus, error: String?, nextAttemptAt: Date? = nil,
        countingAttempt messageID: String? = nil, now: Date, sender: Int64? = nil
    ) throws {
        try writeStatement { db in
            try db.cachedStatement(
                sql: """
                    UPDATE delivery SET status = ?, lastError = ?, nextAttemptAt = ?, updatedAt = ?, claimedBy = NULL,
                        sentAt = CASE WHEN ? = 'sent' THEN ? ELSE sentAt END,
                        attempts = attempts + ?, messageId = COALESCE(?, messageId)
                    WHERE id = ?\(Self.owned(sender))
                    """
            ).execute(
                arguments: [
                    status.rawValue, error, nextAttemptAt, now, status.rawValue, now, messageID == nil ? 0 : 1,
                    messageID,
                    deliveryID,
                ] + Self.owner(sender))
        }
    }

    /// The condition that a run still holds a delivery's claim, when a run is named.
    static func owned(_ sender: Int64?) -> String { sender == nil ? "" : " AND claimedBy = ?" }

    /// The argument of ``owned(_:)``.
    static func owner(_ sender: Int64?) -> SQLArguments { sender.map { [$0] } ?? [] }

    /// Marks the digest complete when no delivery is left to try.
    public func completeDigestIfDone(digestID: Int64, now: Date) throws -> Bool {
        try write { db in
            let open = try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM delivery WHERE digestId = ? AND status IN ('pending', 'sending', 'retry')",
                arguments: [digestID])!
            if open == 0 {
                try db.execute(
                    sql: "UPDATE digest SET completedAt = COALESCE(completedAt, ?) WHERE id = ?",
                    arguments: [now, digestID])
            }
            return open == 0
        }
    }

    /// How many deliveries of the digest are in each status.
    public func deliveryCounts(digestID: Int64) throws -> [DeliveryStatus: Int] {
        try read { db in
            var counts: [DeliveryStatus: Int] = [:]
            for row in try SQLRow.fetchAll(
                db, sql: "SELECT status, COUNT(*) AS n FROM delivery WHERE digestId = ? GROUP BY status",
                arguments: [digestID])
            {
                if let status = DeliveryStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    /// The digest of `week`, if it was ever started.
    public func digest(week: ISOWeek) throws -> DigestRecord? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM digest WHERE week = ?", arguments: [week.description]).map {
                DigestRecord(id: $0, week: week)
            }
        }
    }

    /// Deliveries of a digest, optionally of one status, for `digest status`.
    public func deliveries(digestID: Int64, status: DeliveryStatus? = nil) throws -> [DeliveryListing] {
        try read { db in
            try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT d.*, a.email FROM delivery d LEFT JOIN ambassador a ON a.id = d.ambassadorId
                    WHERE d.digestId = ? AND (CAST(? AS TEXT) IS NULL OR d.status = ?) ORDER BY d.id
                    """,
                arguments: [digestID, status?.rawValue, status?.rawValue]
            ).map { row in
                DeliveryListing(
                    id: row["id"], email: row["email"], status: DeliveryStatus(rawValue: row["status"]) ?? .pending,
                    attempts: row["attempts"], lastError: row["lastError"], messageID: row["messageId"],
                    updatedAt: row["updatedAt"])
            }
        }
    }
}
