import AdvocateCore
import Foundation

/// What happened to a confirmed sign-up.
public enum SignupOutcome: Sendable, Equatable {
    /// A new ambassador.
    case joined(Ambassador)
    /// Someone who had left (or was pending) is active again, with the choices of the sign-up.
    case rejoined(Ambassador)
    /// The address is an active ambassador already (they joined or re-subscribed otherwise since): nothing
    /// changed, and the sign-up is used up. An old confirmation mail never resets later choices.
    case alreadyActive(Ambassador)
    /// The token is unknown, already used or expired.
    case invalid
}

/// Everything stored about one ambassador, for "download my data".
public struct PersonalData: Sendable, Encodable {
    public struct Delivery: Sendable, Encodable {
        public var week: String
        public var status: String
        public var attempts: Int
        public var sentAt: Date?
    }

    public struct ClickCount: Sendable, Encodable {
        public var week: String
        public var kind: String
        public var network: String?
        public var classification: String
        public var count: Int
    }

    public var profile: Ambassador
    public var unsubscribedAt: Date?
    public var deliveries: [Delivery]
    public var clicks: [ClickCount]
    public var invitations: [InvitationListing]
}

extension AppDatabase {
    // MARK: - Sign-ups (double opt-in)

    /// Stores a sign-up waiting for confirmation under the hash of its mailed token, and drops expired ones.
    /// Earlier unconfirmed sign-ups of the address stay: each mailed link confirms its own choices (which its confirm
    /// page shows), so a second sign-up, a double click's or a stranger's, never makes the first link "expired";
    /// confirming one ends the others. The join form's limit per address bounds how many wait.
    public func createSignup(
        tokenHash: String, choices: MemberForm.Choices, now: Date, expiresAt: Date
    ) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM signup WHERE expiresAt <= ?", arguments: [now])
            try db.execute(
                sql: """
                    INSERT INTO signup (tokenHash, email, name, language, themes, networks, frequency, leaderboardOptIn,
                                        createdAt, expiresAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    tokenHash, choices.email, choices.name, choices.language.rawValue, Self.json(choices.themes),
                    Self.json(choices.networks.map(\.rawValue)), choices.frequency.rawValue, choices.leaderboard, now,
                    expiresAt,
                ])
        }
    }

    /// Deletes sign-ups that expired unconfirmed (names and addresses strangers may have typed in) and join-mail
    /// records older than a day; returns how many sign-ups went. Runs when a server starts and with every digest
    /// run, so nothing outlives its expiry by more than a week even when nobody signs up any more.
    @discardableResult
    public func purgeExpiredSignups(now: Date) throws -> Int {
        try write { db in
            let purged = try Self.deleteExpiredSignups(db, now: now)
            try Self.pruneMembershipMail(db, now: now)
            return purged
        }
    }

    /// Deletes the sign-ups expired at `now`; returns how many.
    private static func deleteExpiredSignups(_ db: any SQLSession, now: Date) throws -> Int {
        try db.execute(sql: "DELETE FROM signup WHERE expiresAt <= ?", arguments: [now])
        return db.changesCount
    }

    /// Drops join-mail records older than the day the per-mailbox limit counts.
    private static func pruneMembershipMail(_ db: any SQLSession, now: Date) throws {
        try db.execute(sql: "DELETE FROM membershipMail WHERE sentAt < ?", arguments: [now.addingTimeInterval(-86_400)])
    }

    /// How many sign-ups are stored, expired ones included.
    func signupCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signup") ?? 0 }
    }

    /// A sign-up that is still waiting, as its confirm page shows it.
    public struct PendingSignup: Sendable {
        /// What pressing the button confirms.
        public var choices: MemberForm.Choices
        /// The language of the address's person when they are an active ambassador already (pressing then changes
        /// nothing), else `nil`.
        public var activeLanguage: Language?
    }

    /// The sign-up of `tokenHash` that is still waiting, with whether its address is active already, in one read;
    /// `nil` when the token is unknown or expired, or the sign-up was made before its person last unsubscribed
    /// (pressing it would change nothing: ``confirmSignup(tokenHash:now:week:)``).
    public func pendingSignup(tokenHash: String, now: Date) throws -> PendingSignup? {
        try read { db in
            try SQLRow.fetchOne(
                db,
                sql: """
                    SELECT s.*, a.status AS personStatus, a.language AS personLanguage
                    FROM signup s LEFT JOIN ambassador a ON a.email = s.email
                    WHERE s.tokenHash = ? AND s.expiresAt > ?
                        AND (a.unsubscribedAt IS NULL OR a.unsubscribedAt <= s.createdAt)
                    """, arguments: [tokenHash, now]
            ).map { row in
                PendingSignup(
                    choices: Self.signupChoices(row),
                    activeLanguage: row["personStatus"] as String? == "active"
                        ? Language(rawValue: row["personLanguage"] as String? ?? "") ?? .nl : nil)
            }
        }
    }

    /// What a `signup` row holds.
    private static func signupChoices(_ row: SQLRow) -> MemberForm.Choices {
        MemberForm.Choices(
            email: row["email"], name: row["name"], language: Language(rawValue: row["language"]) ?? .nl,
            themes: decodeList(row["themes"]),
            networks: decodeList(row["networks"]).compactMap(Network.init(rawValue:)),
            frequency: Frequency(rawValue: row["frequency"]) ?? .weekly, pausedUntil: nil,
            leaderboard: row["leaderboardOptIn"])
    }

    /// Confirms a sign-up in one transaction: the person becomes (or becomes again) an active ambassador with the
    /// sign-up's choices, and the sign-up is used up. A known address never becomes a second person, and an
    /// active one keeps their choices (``SignupOutcome/alreadyActive(_:)``). The confirmed sign-up stays for
    /// ``confirmedSignupKept`` (its other sign-ups go), so that a second press of the button, or a double click,
    /// answers that she is in instead of "expired"; it then uses the sign-up up. A sign-up made before the person
    /// last unsubscribed changes nothing (`.invalid`): an old confirmation mail never undoes a later decision.
    public func confirmSignup(tokenHash: String, now: Date, week: ISOWeek) throws -> SignupOutcome {
        try write { db in
            _ = try Self.deleteExpiredSignups(db, now: now)
            guard
                let row = try SQLRow.fetchOne(
                    db, sql: "SELECT * FROM signup WHERE tokenHash = ?", arguments: [tokenHash])
            else { return .invalid }
            let choices = Self.signupChoices(row)
            if let id = try Int64.fetchOne(
                db, sql: "SELECT id FROM ambassador WHERE email = ? AND status = 'active'", arguments: [choices.email])
            {
                // This sign-up answers so for the rest of the hour (a third press).
                try Self.endSignups(db, of: choices.email, keeping: tokenHash, now: now)
                return .alreadyActive(try Self.ambassador(db, id: id))
            }
            if let left = try Date.fetchOne(
                db, sql: "SELECT unsubscribedAt FROM ambassador WHERE email = ?", arguments: [choices.email]),
                left > row["createdAt"] as Date
            {
                try db.execute(sql: "DELETE FROM signup WHERE tokenHash = ?", arguments: [tokenHash])
                return .invalid
            }
            return try Self.activate(db, choices: choices, week: week, now: now, keeping: tokenHash)
        }
    }

    /// Ends the sign-ups of `email`, but for the confirmed one `keeping` names (if any), which stays for at most
    /// ``confirmedSignupKept`` to answer a second press.
    private static func endSignups(_ db: any SQLSession, of email: String, keeping: String?, now: Date) throws {
        try db.execute(sql: "DELETE FROM signup WHERE email = ? AND tokenHash <> ?", arguments: [email, keeping ?? ""])
        guard let keeping else { return }
        let kept = now.addingTimeInterval(confirmedSignupKept)
        try db.execute(
            sql: "UPDATE signup SET expiresAt = ? WHERE tokenHash = ? AND expiresAt > ?",
            arguments: [kept, keeping, kept])
    }

    /// How long a confirmed sign-up answers a second press of its button (``confirmSignup(tokenHash:now:week:)``).
    static let confirmedSignupKept: TimeInterval = 3_600

    /// Joins someone whose address is proven by their personal invitation link, in one transaction. Nothing
    /// changes (`.invalid`, and the caller falls back to the confirmation mail) when the invitation was already
    /// used, is for another address, the address is an active ambassador, or the person unsubscribed after the
    /// invitation was made: an old invitation never undoes a later decision. The form sent again within
    /// ``confirmedSignupKept`` of the acceptance, the person still active (a second press, a double click), changes
    /// nothing either, but is ``SignupOutcome/alreadyActive(_:)``: she sees that she is in, and gets no mail.
    public func acceptInvitation(invitationID: Int64, choices: MemberForm.Choices, now: Date, week: ISOWeek) throws
        -> SignupOutcome
    {
        try write { db in
            guard
                let invitation = try SQLRow.fetchOne(
                    db, sql: "SELECT email, createdAt, acceptedAt FROM invitation WHERE id = ?",
                    arguments: [invitationID]),
                (invitation["email"] as String).lowercased() == choices.email
            else { return .invalid }
            if let accepted = invitation["acceptedAt"] as Date? {
                guard now.timeIntervalSince(accepted) < Self.confirmedSignupKept,
                    let id = try Int64.fetchOne(
                        db, sql: "SELECT id FROM ambassador WHERE email = ? AND status = 'active'",
                        arguments: [choices.email])
                else { return .invalid }
                return .alreadyActive(try Self.ambassador(db, id: id))
            }
            if let person = try SQLRow.fetchOne(
                db, sql: "SELECT status, unsubscribedAt FROM ambassador WHERE email = ?", arguments: [choices.email])
            {
                guard person["status"] as String != "active" else { return .invalid }
                if let left = person["unsubscribedAt"] as Date?, left > invitation["createdAt"] as Date {
                    return .invalid
                }
            }
            return try Self.activate(db, choices: choices, week: week, now: now)
        }
    }

    /// Makes the address an active ambassador with `choices`: a new person, or the same person again (same id,
    /// same history) when the address is known. Used-up sign-ups go, but for the confirmed one `keeping` names
    /// (``endSignups(_:of:keeping:now:)``); invitations of the address are accepted.
    private static func activate(
        _ db: any SQLSession, choices: MemberForm.Choices, week: ISOWeek, now: Date, keeping: String? = nil
    ) throws -> SignupOutcome {
        try endSignups(db, of: choices.email, keeping: keeping, now: now)
        try db.execute(sql: "UPDATE invitation SET acceptedAt = ? WHERE email = ?", arguments: [now, choices.email])
        let values: SQLArguments = [
            choices.name, choices.language.rawValue, json(choices.themes), json(choices.networks.map(\.rawValue)),
            choices.leaderboard, choices.frequency.rawValue, week.ordinal, choices.pausedUntil?.description, now,
        ]
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM ambassador WHERE email = ?", arguments: [choices.email])
        {
            try db.execute(
                sql: """
                    UPDATE ambassador SET status = 'active', unsubscribedAt = NULL, name = ?, language = ?, themes = ?,
                        networks = ?, leaderboardOptIn = ?, frequency = ?, frequencyAnchor = ?, pausedUntil = ?,
                        updatedAt = ?
                    WHERE id = ?
                    """, arguments: values + [id])
            return .rejoined(try ambassador(db, id: id))
        }
        let id = try Int64.fetchOne(
            db,
            sql: """
                INSERT INTO ambassador (name, language, themes, networks, leaderboardOptIn, frequency, frequencyAnchor,
                                        pausedUntil, updatedAt, email, status, joinedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?) RETURNING id
                """, arguments: values + [choices.email, now])!
        return .joined(try ambassador(db, id: id))
    }

    // MARK: - Rate limits

    /// Records a mail the join form wants to send, if the limits allow it: at most `perAddress` per mailbox per
    /// 24 hours (`zoe+1@…` and `zoe+2@…` are Zoe's, ``EmailAddress/mailbox(of:)``) and `perHour` in all per hour
    /// (`nil`: no total, for a mail only to an ambassador's own address on file, which the join form's flood must
    /// not hold back). Returns whether the mail may go. Old entries are dropped.
    public func allowMembershipMail(to address: String, now: Date, perAddress: Int, perHour: Int?) throws -> Bool {
        let fingerprint = EmailAddress.fingerprint(EmailAddress.mailbox(of: address))
        return try write { db in
            try Self.pruneMembershipMail(db, now: now)
            let forAddress =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM membershipMail WHERE fingerprint = ?", arguments: [fingerprint]) ?? 0
            guard forAddress < perAddress else { return false }
            if let perHour {
                let lastHour =
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM membershipMail WHERE sentAt >= ?",
                        arguments: [now.addingTimeInterval(-3_600)]) ?? 0
                guard lastHour < perHour else { return false }
            }
            try db.execute(
                sql: "INSERT INTO membershipMail (fingerprint, sentAt) VALUES (?, ?)", arguments: [fingerprint, now])
            return true
        }
    }

    // MARK: - Preferences

    /// Saves what an ambassador chose on their preferences page (or the operator through the CLI, with a new
    /// `status`), in one transaction. Choosing every other week starts counting from `week`. Open deliveries the
    /// new choices rule out are settled in the same transaction (``settleUnsendable(_:ambassadorID:now:)``).
    public func updatePreferences(
        ambassadorID: Int64, choices: MemberForm.Choices, status: AmbassadorStatus? = nil, week: ISOWeek, now: Date
    ) throws {
        try write { db in
            if let status {
                try db.execute(
                    sql: """
                        UPDATE ambassador SET status = ?,
                            unsubscribedAt = CASE WHEN ? = 'unsubscribed' THEN COALESCE(unsubscribedAt, ?) ELSE NULL END
                        WHERE id = ?
                        """, arguments: [status.rawValue, status.rawValue, now, ambassadorID])
            }
            try db.execute(
                sql: """
                    UPDATE ambassador SET name = ?, language = ?, themes = ?, networks = ?, leaderboardOptIn = ?,
                        pausedUntil = ?,
                        frequencyAnchor = CASE WHEN frequency = ? THEN frequencyAnchor ELSE ? END,
                        frequency = ?, updatedAt = ?
                    WHERE id = ?
                    """,
                arguments: [
                    choices.name, choices.language.rawValue, Self.json(choices.themes),
                    Self.json(choices.networks.map(\.rawValue)), choices.leaderboard, choices.pausedUntil?.description,
                    choices.frequency.rawValue, week.ordinal, choices.frequency.rawValue, now, ambassadorID,
                ])
            try Self.settleUnsendable(db, ambassadorID: ambassadorID, now: now)
        }
    }

    // MARK: - Personal data

    /// Everything stored about an ambassador, for "download my data".
    public func personalData(ambassadorID: Int64) throws -> PersonalData? {
        try settleClicks()
        return try read { db in
            guard
                let row = try SQLRow.fetchOne(
                    db, sql: "SELECT * FROM ambassador WHERE id = ?", arguments: [ambassadorID])
            else { return nil }
            let profile = try Self.ambassador(row)
            let deliveries = try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT g.week, d.status, d.attempts, d.sentAt FROM delivery d JOIN digest g ON g.id = d.digestId
                    WHERE d.ambassadorId = ? ORDER BY g.week
                    """, arguments: [ambassadorID]
            ).map {
                PersonalData.Delivery(
                    week: $0["week"], status: $0["status"], attempts: $0["attempts"], sentAt: $0["sentAt"])
            }
            let clicks = try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT week, kind, network, class, COUNT(*) AS n FROM click WHERE ambassadorId = ?
                    GROUP BY week, kind, network, class ORDER BY week, kind, network, class
                    """, arguments: [ambassadorID]
            ).map {
                PersonalData.ClickCount(
                    week: $0["week"], kind: $0["kind"], network: $0["network"], classification: $0["class"],
                    count: $0["n"])
            }
            let invitations = try SQLRow.fetchAll(
                db, sql: "SELECT * FROM invitation WHERE email = ? ORDER BY id", arguments: [profile.email]
            ).map(Self.invitation)
            return PersonalData(
                profile: profile, unsubscribedAt: row["unsubscribedAt"], deliveries: deliveries, clicks: clicks,
                invitations: invitations)
        }
    }

    /// Whether an address was removed from the programme (and must never be invited again).
    public func isSuppressed(_ address: String) throws -> Bool {
        try read { db in try Self.isSuppressed(db, address) }
    }

    static func isSuppressed(_ db: any SQLSession, _ address: String) throws -> Bool {
        try suppressionReason(db, address) != nil
    }

    /// Why `address` is in `suppression`, `nil` when it is not: ``removedReason`` (erased: never invited without
    /// `--force`, never brought back by an import), ``declinedReason`` (asked through an invitation's opt-out link
    /// never to be invited again: never invited, not even with `--force`, nor enrolled by an import; joining by
    /// themselves, or `ambassadors add`, still works) or ``removedAndDeclined`` (both, in either order).
    static func suppressionReason(_ db: any SQLSession, _ address: String) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT reason FROM suppression WHERE fingerprint = ?",
            arguments: [EmailAddress.fingerprint(address)])
    }

    static let removedReason = "removed"
    static let declinedReason = "declined"
    static let removedAndDeclined = "removed+declined"

    /// Keeps `address`'s fingerprint in `suppression` for `reason` (``removedReason`` or ``declinedReason``), together
    /// with the other one when it is there already: an erasure and an opt-out make ``removedAndDeclined`` in either
    /// order, so that neither undoes the other.
    static func suppress(_ db: any SQLSession, _ address: String, _ reason: String, now: Date) throws {
        let other = reason == removedReason ? declinedReason : removedReason
        try db.execute(
            sql: """
                INSERT INTO suppression (fingerprint, reason, createdAt) VALUES (?, ?, ?)
                ON CONFLICT (fingerprint) DO UPDATE SET reason = CASE WHEN suppression.reason = ? THEN ?
                                                                      ELSE suppression.reason END
                """, arguments: [EmailAddress.fingerprint(address), reason, now, other, removedAndDeclined])
    }

    /// Whether a suppression's reason says the person asked never to be invited again.
    static func declined(_ reason: String?) -> Bool { reason == declinedReason || reason == removedAndDeclined }

    static func ambassador(_ db: any SQLSession, id: Int64) throws -> Ambassador {
        try ambassador(try SQLRow.fetchOne(db, sql: "SELECT * FROM ambassador WHERE id = ?", arguments: [id])!)
    }
}
