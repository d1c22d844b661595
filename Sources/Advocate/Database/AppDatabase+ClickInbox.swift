import AdvocateCore
import Foundation

/// The click inbox (SQLite): the click server commits each click to `clickInbox`, a table without indexes, before
/// its redirect, and moves the clicks into `click` (six indexes) later, in arrival order and in slices, when it is
/// idle or the inbox has grown past a limit. A burst of clicks then costs one narrow row each while it lasts; the
/// indexes are kept up in the quiet after it. The move costs about what storing each click directly cost (the
/// indexes' random pages are written either way): the inbox moves that cost out of the burst, it does not remove
/// it. Every read of clicks moves what is waiting first (``settleClicks()``), so no report, digest or export sees
/// fewer clicks than were answered. PostgreSQL, shared by several machines, stores clicks directly.
extension AppDatabase {
    /// Whether the click server commits clicks to the inbox (SQLite) or straight to `click` (PostgreSQL).
    public var usesClickInbox: Bool { dialect == .sqlite }

    /// Commits `clicks` as the click server takes them, in one transaction (group commit): to the inbox on SQLite,
    /// where each is taken (true); straight into `click` on PostgreSQL, where a click whose request id another
    /// server stored first is not (false; see ``insertClicks(_:)``).
    @discardableResult
    public func takeClicks(_ clicks: [ClickRecord]) throws -> [Bool] {
        guard usesClickInbox else { return try insertClicks(clicks) }
        try inboxClicks(clicks)
        return Array(repeating: true, count: clicks.count)
    }

    /// Commits `clicks` to the inbox in one transaction (group commit), in their order.
    public func inboxClicks(_ clicks: [ClickRecord]) throws {
        try write { db in
            let insert = try db.cachedStatement(sql: Self.inboxInsertSQL)
            for click in clicks { try insert.execute(arguments: Self.inboxColumns(of: click)) }
        }
    }

    /// Moves up to `limit` of the oldest clicks waiting in the inbox into `click`, in one transaction, exactly as
    /// ``insertClicks(_:)`` would have stored them on arrival (same order, same reclassifications, the same
    /// request id check). Returns how many it moved: fewer than `limit` means the inbox is empty.
    @discardableResult
    public func moveInboxClicks(limit: Int) throws -> Int {
        guard usesClickInbox else { return 0 }
        return try write { db in try Self.moveInbox(db, limit: limit, upTo: .max) }
    }

    /// Moves every click that is in the inbox when called, a slice per transaction (so that a click server
    /// committing beside it waits for one slice at most). Every read of clicks calls it first; a no-op when the
    /// inbox is empty and on PostgreSQL.
    public func settleClicks() throws {
        guard usesClickInbox,
            let last = try read({ db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM clickInbox") })
        else { return }
        while try write({ db in try Self.moveInbox(db, limit: Self.settleSlice, upTo: last) }) == Self.settleSlice {}
    }

    /// How many clicks are waiting in the inbox (the load check reports how long they take to move).
    public func inboxCount() throws -> Int {
        guard usesClickInbox else { return 0 }
        return try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM clickInbox") ?? 0 }
    }

    /// Clicks moved per transaction by a reader settling the inbox.
    static let settleSlice = 1_024

    /// Moves the oldest clicks in the inbox, up to `limit` and up to id `last`, inside the caller's write.
    static func moveInbox(_ db: any SQLSession, limit: Int, upTo last: Int64) throws -> Int {
        let rows = try db.cachedStatement(
            sql: "SELECT id, \(inboxColumnNames) FROM clickInbox WHERE id <= ? ORDER BY id LIMIT ?"
        ).query([last, limit])
        guard let newest = rows.last?["id"] as Int64? else { return 0 }
        _ = try store(try rows.map(ClickRecord.init(inboxRow:)), in: db)
        try db.cachedStatement(sql: "DELETE FROM clickInbox WHERE id <= ?").execute(arguments: [newest])
        return rows.count
    }

    /// The inbox's columns: a click's stored columns, then what its reclassifications need.
    static let inboxColumnNames = clickColumnNames + ", taints, checkBefore"

    public static let inboxInsertSQL = """
        INSERT INTO clickInbox (\(inboxColumnNames))
        VALUES (\(Array(repeating: "?", count: clickColumns + 2).joined(separator: ", ")))
        """

    /// A click's inbox row. The moments of its reclassifications are kept as `Date` holds them (seconds since its
    /// reference date, as a double), so that the windows on the move are exactly the ones the arrival would have
    /// used.
    static func inboxColumns(of click: ClickRecord) -> SQLArguments {
        var values = columns(of: click).values
        values.append(
            click.taints.isEmpty
                ? .null : .text(click.taints.map { "\($0.timeIntervalSinceReferenceDate)" }.joined(separator: " ")))
        values.append(click.checkBefore.map { .real($0.timeIntervalSinceReferenceDate) } ?? .null)
        return SQLArguments(values: values)
    }
}

extension ClickRecord {
    /// The kinds a stored click has (see ``storedKind``).
    static let storedKinds: [String: LinkToken.Kind] = ["share": .share, "visit": .visit, "trap": .trap]

    /// The click an inbox row holds.
    init(inboxRow row: SQLRow) throws {
        guard let kind = Self.storedKinds[row["kind"] as String], let at = row["at"] as Date?,
            let classification = ClickClass(rawValue: row["class"] as String),
            let week = try? ISOWeek(parsing: row["week"] as String)
        else { throw StoreError.failed("clickInbox row \(row["id"] as Int64? ?? -1) does not hold a click") }
        let network = (row["network"] as String?).flatMap(Network.init(rawValue:))
        let taints = (row["taints"] as String?)?.split(separator: " ").compactMap { Double($0) } ?? []
        self.init(
            at: at, kind: kind, week: week, itemID: row["itemId"], network: network,
            ambassadorID: row["ambassadorId"], verdict: ClickVerdict(classification, row["reason"]),
            taints: taints.map { Date(timeIntervalSinceReferenceDate: $0) })
        checkBefore = (row["checkBefore"] as Double?).map { Date(timeIntervalSinceReferenceDate: $0) }
        confirms = row["confirms"]
        newReader = row["newReader"]
        newItemReader = row["newItemReader"]
        requestID = row["requestId"]
    }
}
