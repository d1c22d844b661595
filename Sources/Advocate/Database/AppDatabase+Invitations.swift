import AdvocateCore
import Foundation

/// One invitation as the operator sees it (`advocate invite --status`).
public struct InvitationListing: Sendable, Codable, Equatable {
    public var id: Int64
    public var email: String
    public var name: String
    public var language: Language
    public var status: DeliveryStatus
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var sentAt: Date?
    public var acceptedAt: Date?
}

/// Someone to invite.
public struct InvitationRequest: Sendable, Equatable {
    public var email: String
    public var name: String
    public var language: Language

    /// Creates a request.
    public init(email: String, name: String, language: Language) {
        self.email = email
        self.name = name
        self.language = language
    }
}

/// What `advocate invite` queued, and whom it left out and why.
public struct InvitationQueueResult: Sendable, Codable, Equatable {
    public var queued: [String] = []
    /// Invited within the cool-down period (or an invitation is still on its way).
    public var recentlyInvited: [String] = []
    public var unsubscribed: [String] = []
    public var removed: [String] = []
    /// Asked, through an earlier invitation's opt-out link, never to be invited again (not even with `--force`).
    public var declined: [String] = []
    public var alreadyMembers: [String] = []

    /// Whether `--force` would have queued some of those left out (invited recently, unsubscribed or removed).
    public var forceWouldInvite: Bool { !recentlyInvited.isEmpty || !unsubscribed.isEmpty || !removed.isEmpty }
}

extension AppDatabase {
    /// Queues invitations in one transaction. Nobody is invited twice within `cooldownDays`, and people who
    /// unsubscribed or were removed are never invited, unless `force`; an invitation that is still on its way is
    /// never doubled, and active ambassadors and people who asked not to be invited again are never invited.
    public func queueInvitations(_ requests: [InvitationRequest], force: Bool, cooldownDays: Int, now: Date) throws
        -> InvitationQueueResult
    {
        try write { db in
            var result = InvitationQueueResult()
            let since = now.addingTimeInterval(-Double(cooldownDays) * 86_400)
            for request in requests {
                let status = try String.fetchOne(
                    db, sql: "SELECT status FROM ambassador WHERE email = ?", arguments: [request.email])
                // Still on its way: never doubled. An invitation in doubt counts as on its way, unless --force.
                let open =
                    try Bool.fetchOne(
                        db,
                        sql: """
                            SELECT 1 FROM invitation WHERE email = ?
                              AND status IN ('pending', 'sending', 'retry', CASE WHEN ? = 1 THEN '' ELSE 'inDoubt' END)
                            """, arguments: [request.email, force]) ?? false
                let recent =
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM invitation WHERE email = ? AND createdAt >= ? AND status <> 'failed'",
                        arguments: [request.email, since]) ?? false
                let suppression = try Self.suppressionReason(db, request.email)
                if status == "active" {
                    result.alreadyMembers.append(request.email)
                } else if Self.declined(suppression) {
                    result.declined.append(request.email)
                } else if open || (recent && !force) {
                    result.recentlyInvited.append(request.email)
                } else if status == "unsubscribed" && !force {
                    result.unsubscribed.append(request.email)
                } else if suppression != nil && !force {
                    result.removed.append(request.email)
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO invitation (email, name, language, status, createdAt, updatedAt)
                            VALUES (?, ?, ?, 'pending', ?, ?)
                            """, arguments: [request.email, request.name, request.language.rawValue, now, now])
                    result.queued.append(request.email)
                }
            }
            return result
        }
    }

    /// Invitations left in `sending` by a run that died: in doubt once their end was handed over, queued again
    /// otherwise (left so by versions that marked `sending` before the transaction). Returns how many are in doubt.
    @discardableResult
    public func markAbandonedInvitations(now: Date) throws -> Int {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE invitation SET status = 'inDoubt', updatedAt = ?,
                        lastError = 'the sending process stopped after the end of this invitation was handed over'
                    WHERE status = 'sending' AND handedOverAt IS NOT NULL
                    """, arguments: [now])
            let inDoubt = db.changesCount
            try db.execute(
                sql: """
                    UPDATE invitation SET status = 'pending', updatedAt = ?,
                        lastError = 'the sending process stopped before the end of this invitation was handed over'
                    WHERE status = 'sending' AND handedOverAt IS NULL
                    """, arguments: [now])
            return inDoubt
        }
    }

    /// Notes that the end of an invitation is about to be handed to the relay, and counts the attempt: `sending`,
    /// with its Message-ID, committed before the end leaves (until then the invitation is still `pending`, and a run
    /// that dies leaves it to be sent by the next).
    /// Throws ``NoLongerDue`` when the invitation is no longer due (the person was erased, or joined, while it was
    /// being sent; one who joined has the invitation settled here): its end is then not sent.
    public func markInvitationHandedOver(id: Int64, messageID: String, now: Date) throws {
        try writeStatement { db in
            try db.execute(
                sql: """
                    UPDATE invitation SET status = 'sending', attempts = attempts + 1, messageId = ?, updatedAt = ?,
                        handedOverAt = ?
                    WHERE id = ? AND status IN ('pending', 'retry') AND NOT \(Self.inviteeIsMember)
                    """, arguments: [messageID, now, now, id])
            guard db.changesCount == 0 else { return }
            // The person joined while the invitation was on its way: settled as the run's start would have.
            try Self.settleMembers(db, id: id, now: now)
            throw NoLongerDue(id: id)
        }
    }

    /// Settles queued invitations of people who became ambassadors in the meantime (through `/join`): they are not
    /// sent. Returns how many.
    @discardableResult
    public func settleInvitationsOfMembers(now: Date) throws -> Int {
        try write { db in try Self.settleMembers(db, id: nil, now: now) }
    }

    /// For a statement on `invitation`: its address belongs to an active ambassador, or to one who unsubscribed
    /// after the invitation was queued (they joined and left meanwhile: a later decision an old invitation must not
    /// undo; `--force` queues a new one).
    private static let inviteeIsMember = """
        EXISTS (SELECT 1 FROM ambassador a WHERE a.email = invitation.email
                AND (a.status = 'active' OR (a.status = 'unsubscribed' AND a.unsubscribedAt >= invitation.createdAt)))
        """

    /// Settles the due invitations (all, or the one with `id`) of people who are active ambassadors, or left after
    /// the invitation was queued; returns how many.
    @discardableResult
    private static func settleMembers(_ db: any SQLSession, id: Int64?, now: Date) throws -> Int {
        try db.execute(
            sql: """
                UPDATE invitation SET status = 'failed', updatedAt = ?,
                    lastError = CASE WHEN EXISTS (SELECT 1 FROM ambassador a WHERE a.email = invitation.email
                                                  AND a.status = 'active')
                                THEN 'not sent: already an ambassador'
                                ELSE 'not sent: joined and unsubscribed after it was queued' END
                WHERE status IN ('pending', 'retry') AND \(inviteeIsMember)\(id == nil ? "" : " AND id = ?")
                """, arguments: [now] + (id.map { [$0] } ?? []))
        return db.changesCount
    }

    /// The invitation an opt-out link names, and whether its address is already never invited again; `nil` when the
    /// invitation is gone (its address was erased).
    public func invitationOptOut(id: Int64) throws -> (invitation: InvitationListing, stopped: Bool)? {
        try read { db in
            guard let invitation = try Self.invitation(db, id: id) else { return nil }
            return (invitation, Self.declined(try Self.suppressionReason(db, invitation.email)))
        }
    }

    /// The address of invitation `id` asked never to be invited again: its fingerprint goes into `suppression`
    /// (reason `declined`, or `removed+declined` when it was erased before) and its queued invitations are settled
    /// unsent, in one transaction. Returns the invitation, or `nil` when it is gone. Doing it twice changes nothing.
    @discardableResult
    public func stopInvitations(id: Int64, now: Date) throws -> InvitationListing? {
        try write { db in
            guard let invitation = try Self.invitation(db, id: id) else { return nil }
            try Self.suppress(db, invitation.email, Self.declinedReason, now: now)
            try db.execute(
                sql: """
                    UPDATE invitation SET status = 'failed', updatedAt = ?,
                        lastError = 'not sent: asked not to be invited again'
                    WHERE email = ? AND status IN ('pending', 'retry')
                    """, arguments: [now, invitation.email])
            return invitation
        }
    }

    /// Whether an invitation may still be sent: it exists (the person was not erased meanwhile) and is due.
    public func invitationIsDue(id: Int64) throws -> Bool {
        try read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM invitation WHERE id = ? AND status IN ('pending', 'retry')", arguments: [id])
                ?? false
        }
    }

    /// Invitations to send now: pending ones, in id order.
    public func dueInvitations(after cursor: Int64, limit: Int) throws -> [InvitationListing] {
        try read { db in
            try SQLRow.fetchAll(
                db, sql: "SELECT * FROM invitation WHERE status IN ('pending', 'retry') AND id > ? ORDER BY id LIMIT ?",
                arguments: [cursor, limit]
            ).map(Self.invitation)
        }
    }

    /// Records the outcome of sending an invitation. An attempt that ended before its end was handed over is
    /// counted here when its Message-ID is given as `countingAttempt` (as ``recordOutcome(deliveryID:status:error:nextAttemptAt:countingAttempt:now:sender:)``).
    public func recordInvitationOutcome(
        id: Int64, status: DeliveryStatus, error: String?, countingAttempt messageID: String? = nil, now: Date
    ) throws {
        try writeStatement { db in
            try db.execute(
                sql: """
                    UPDATE invitation SET status = ?, lastError = ?, updatedAt = ?,
                        sentAt = CASE WHEN ? = 'sent' THEN ? ELSE sentAt END,
                        attempts = attempts + ?, messageId = COALESCE(?, messageId)
                    WHERE id = ?
                    """,
                arguments: [status.rawValue, error, now, status.rawValue, now, messageID == nil ? 0 : 1, messageID, id])
        }
    }

    /// Every invitation, newest first.
    public func invitations() throws -> [InvitationListing] {
        try read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM invitation ORDER BY id DESC").map(Self.invitation)
        }
    }

    /// One invitation.
    public func invitation(id: Int64) throws -> InvitationListing? {
        try read { db in try Self.invitation(db, id: id) }
    }

    static func invitation(_ db: any SQLSession, id: Int64) throws -> InvitationListing? {
        try SQLRow.fetchOne(db, sql: "SELECT * FROM invitation WHERE id = ?", arguments: [id]).map(Self.invitation)
    }

    static func invitation(_ row: SQLRow) -> InvitationListing {
        InvitationListing(
            id: row["id"], email: row["email"], name: row["name"], language: Language(rawValue: row["language"]) ?? .nl,
            status: DeliveryStatus(rawValue: row["status"]) ?? .pending, attempts: row["attempts"],
            lastError: row["lastError"], createdAt: row["createdAt"], sentAt: row["sentAt"],
            acceptedAt: row["acceptedAt"])
    }
}
