import AdvocateCore
import Foundation

/// How many rows an import created and how many it updated.
public struct UpsertCount: Sendable, Equatable, Codable {
    /// Rows that did not exist before.
    public var created = 0
    /// Rows that existed and were updated.
    public var updated = 0
    /// Addresses left out because their people asked to be erased: an import never brings them back.
    public var erased: [String] = []
    /// Addresses left out because their people asked, through an invitation, never to be invited: an import does
    /// not enrol them either (`ambassadors add` does, for someone who agreed after all).
    public var declined: [String] = []

    /// Creates a count.
    public init(created: Int = 0, updated: Int = 0, erased: [String] = []) {
        self.created = created
        self.updated = updated
        self.erased = erased
    }
}

extension AppDatabase {
    /// Inserts new ambassadors and updates existing ones (matched by e-mail), all in one transaction. Status,
    /// join date and leaderboard choice of existing ambassadors are kept: an import never re-subscribes anyone.
    /// A cell left empty keeps what is stored (``ImportRow/blank``): a staff list without networks does not undo
    /// the networks someone chose on their preferences page.
    /// Nor does it bring back someone who was removed (erased): a new address with a kept fingerprint is left out
    /// and listed in ``UpsertCount/erased``. (Someone who joins again by themselves, through `/join`, is updated as
    /// any ambassador.)
    public func upsertAmbassadors(_ rows: [ImportRow<Ambassador>], now: Date) throws -> UpsertCount {
        try write { db in
            var count = UpsertCount()
            for row in rows {
                let ambassador = row.value
                // Fixed column names only: nothing from the file goes into the statement's text.
                let updated =
                    ["name", "language", "themes", "networks"].filter { !row.blank.contains($0) }.map {
                        "\($0) = excluded.\($0)"
                    } + ["updatedAt = excluded.updatedAt"]
                let existed =
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM ambassador WHERE email = ?", arguments: [ambassador.email]) ?? false
                if !existed, let reason = try Self.suppressionReason(db, ambassador.email) {
                    if reason == Self.declinedReason {
                        count.declined.append(ambassador.email)
                    } else {
                        count.erased.append(ambassador.email)
                    }
                    continue
                }
                try db.execute(
                    sql: """
                        INSERT INTO ambassador (email, name, language, themes, networks, status, leaderboardOptIn,
                                                joinedAt, updatedAt, frequency, frequencyAnchor, pausedUntil)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(email) DO UPDATE SET
                            \(updated.joined(separator: ", "))
                        """,
                    arguments: Self.arguments(ambassador, now: now))
                if existed { count.updated += 1 } else { count.created += 1 }
            }
            return count
        }
    }

    /// Adds one ambassador; fails when the e-mail address is already known.
    public func addAmbassador(_ ambassador: Ambassador, now: Date) throws -> Ambassador {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM ambassador WHERE email = ?", arguments: [ambassador.email])
                ?? false
            {
                throw StoreError.conflict("an ambassador with e-mail \(ambassador.email) already exists")
            }
            let id = try Int64.fetchOne(
                db,
                sql: """
                    INSERT INTO ambassador (email, name, language, themes, networks, status, leaderboardOptIn,
                                            joinedAt, updatedAt, frequency, frequencyAnchor, pausedUntil)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                arguments: Self.arguments(ambassador, now: now))
            var saved = ambassador
            saved.id = id
            return saved
        }
    }

    /// Ambassadors ordered by e-mail, optionally only those with one status.
    public func ambassadors(status: AmbassadorStatus? = nil) throws -> [Ambassador] {
        try read { db in
            let rows =
                if let status {
                    try SQLRow.fetchAll(
                        db, sql: "SELECT * FROM ambassador WHERE status = ? ORDER BY email",
                        arguments: [status.rawValue]
                    )
                } else {
                    try SQLRow.fetchAll(db, sql: "SELECT * FROM ambassador ORDER BY email")
                }
            return try rows.map(Self.ambassador)
        }
    }

    /// The ambassador with this id.
    public func ambassador(id: Int64) throws -> Ambassador? {
        try readStatement { db in
            // Cached: the click server asks once per ambassador a minute.
            let statement = try db.cachedStatement(sql: "SELECT * FROM ambassador WHERE id = ?")
            return try SQLRow.fetchAll(statement, arguments: [id]).first.map(Self.ambassador)
        }
    }

    /// The ambassador with this e-mail address.
    public func ambassador(email: String) throws -> Ambassador? {
        try readStatement { db in
            try SQLRow.fetchOne(db, sql: "SELECT * FROM ambassador WHERE email = ?", arguments: [email]).map(
                Self.ambassador)
        }
    }

    /// Removes the ambassador and their personal data. Their deliveries (and later clicks) stay, without the
    /// person, so aggregate counts remain right; a fingerprint of the address is kept so that they are never
    /// invited (or imported) again, and their pending sign-ups and invitations go too. Someone who was only invited
    /// or only signed up is erased the same way. Returns whether anything about the address was known.
    public func removeAmbassador(email: String, now: Date = Date()) throws -> Bool {
        // Clicks waiting in the inbox are stored first, while the person is still there: a later hit of their mail
        // reclassifies their earlier ones by ambassador, which it could not do once they are NULL. A slice per
        // transaction first (a click server beside it waits for one slice at most), then what came since.
        try settleClicks()
        return try write { db in
            if db.dialect == .sqlite { _ = try Self.moveInbox(db, limit: .max, upTo: .newest) }
            // A relay's error text may quote the address: it goes with the person.
            try db.execute(
                sql: """
                    UPDATE delivery SET lastError = NULL, messageId = NULL
                    WHERE ambassadorId = (SELECT id FROM ambassador WHERE email = ?)
                    """, arguments: [email])
            var known = 0
            for table in ["ambassador", "signup", "invitation"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE email = ?", arguments: [email])
                known += db.changesCount
            }
            guard known > 0 else { return false }
            try Self.suppress(db, email, Self.removedReason, now: now)
            return true
        }
    }

    /// When the ambassador unsubscribed, if they are unsubscribed.
    public func unsubscribedAt(ambassadorID: Int64) throws -> Date? {
        try read { db in
            try Date.fetchOne(db, sql: "SELECT unsubscribedAt FROM ambassador WHERE id = ?", arguments: [ambassadorID])
        }
    }

    /// Changes whether an ambassador receives digests.
    public func setStatus(_ status: AmbassadorStatus, ambassadorID: Int64, now: Date) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE ambassador SET status = ?, updatedAt = ?,
                        unsubscribedAt = CASE WHEN ? = 'unsubscribed' THEN ? ELSE NULL END
                    WHERE id = ?
                    """,
                arguments: [status.rawValue, now, status.rawValue, now, ambassadorID])
            try Self.settleUnsendable(db, ambassadorID: ambassadorID, now: now)
        }
    }

    // MARK: - Mapping

    static func arguments(_ ambassador: Ambassador, now: Date) -> SQLArguments {
        [
            ambassador.email, ambassador.name, ambassador.language.rawValue, json(ambassador.themes),
            json(ambassador.networks.map(\.rawValue)), ambassador.status.rawValue, ambassador.leaderboardOptIn,
            ambassador.joinedAt, now, ambassador.schedule.frequency.rawValue, ambassador.schedule.anchorWeek,
            ambassador.schedule.pausedUntil?.description,
        ]
    }

    static func ambassador(_ row: SQLRow) throws -> Ambassador {
        Ambassador(
            id: row["id"], email: row["email"], name: row["name"],
            language: Language(rawValue: row["language"]) ?? .nl,
            themes: decodeList(row["themes"]),
            networks: decodeList(row["networks"]).compactMap(Network.init(rawValue:)),
            status: AmbassadorStatus(rawValue: row["status"]) ?? .pending, joinedAt: row["joinedAt"],
            leaderboardOptIn: row["leaderboardOptIn"],
            schedule: DeliverySchedule(
                frequency: Frequency(rawValue: row["frequency"]) ?? .weekly, anchorWeek: row["frequencyAnchor"],
                pausedUntil: (row["pausedUntil"] as String?).flatMap(CalendarDay.init(parsing:))))
    }

    static func json(_ list: [String]) -> String {
        String(decoding: try! JSONEncoder().encode(list), as: UTF8.self)
    }

    static func decodeList(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
