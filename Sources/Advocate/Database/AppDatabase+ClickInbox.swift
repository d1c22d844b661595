import AdvocateCore
import Foundation

/// The click inbox (SQLite): the click server commits the clicks of each group commit as one row of
/// `clickParcel` (their text; see ``ClickParcel``), a table without indexes, before their redirects, and moves them
/// into `click` (six indexes) later, in arrival order and in slices, when it is idle or the inbox has grown past a
/// limit. A burst of clicks then costs one narrow row per commit while it lasts; the indexes are kept up in the
/// quiet after it. The move costs about what storing each click directly cost (the indexes' random pages are written
/// either way): the inbox moves that cost out of the burst, it does not remove it. Every read of clicks moves what
/// is waiting first (``settleClicks()``), so no report, digest or export sees fewer clicks than were answered.
/// `clickInbox`, a row per click, is where versions before the parcels committed them: what they left there is moved
/// first. PostgreSQL, shared by several machines, stores clicks directly.
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

    /// Commits `clicks` to the inbox in one transaction (group commit), in their order: one parcel.
    public func inboxClicks(_ clicks: [ClickRecord]) throws {
        guard !clicks.isEmpty else { return }
        let parcel = ClickParcel.encode(clicks)
        try write { db in
            try db.cachedStatement(sql: Self.parcelInsertSQL).execute(arguments: [clicks.count, parcel])
        }
    }

    /// The statement that commits one parcel (the benchmark's peer runs it too).
    public static let parcelInsertSQL = "INSERT INTO clickParcel (clicks, lines) VALUES (?, ?)"

    /// Moves the oldest clicks waiting in the inbox into `click`, whole parcels until at least `limit` (or all that
    /// wait), in one transaction, exactly as ``insertClicks(_:)`` would have stored them on arrival (same order,
    /// same reclassifications, the same request id check). Returns how many it moved: fewer than `limit` means the
    /// inbox is empty.
    @discardableResult
    public func moveInboxClicks(limit: Int) throws -> Int {
        guard usesClickInbox else { return 0 }
        return try write { db in try Self.moveInbox(db, limit: limit, upTo: .newest) }
    }

    /// Moves every click that is in the inbox when called, a slice per transaction (so that a click server
    /// committing beside it waits for one slice at most). Every read of clicks calls it first; a no-op when the
    /// inbox is empty and on PostgreSQL.
    public func settleClicks() throws {
        guard usesClickInbox else { return }
        let last = try read { db in
            InboxEnd(
                row: try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM clickInbox") ?? 0,
                parcel: try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM clickParcel") ?? 0)
        }
        guard last != InboxEnd(row: 0, parcel: 0) else { return }
        while try write({ db in try Self.moveInbox(db, limit: Self.settleSlice, upTo: last) }) >= Self.settleSlice {}
    }

    /// How many clicks are waiting in the inbox (the load check reports how long they take to move).
    public func inboxCount() throws -> Int {
        guard usesClickInbox else { return 0 }
        return try read { db in try Self.inboxCount(db) }
    }

    /// How many clicks wait in the inbox, inside the caller's transaction.
    static func inboxCount(_ db: any SQLSession) throws -> Int {
        try Int.fetchOne(
            db,
            sql: "SELECT (SELECT COUNT(*) FROM clickInbox) + (SELECT COALESCE(SUM(clicks), 0) FROM clickParcel)") ?? 0
    }

    /// The newest row of each inbox table a move may take (parcel ids only grow; `clickInbox` takes no new rows).
    struct InboxEnd: Equatable {
        var row: Int64
        var parcel: Int64
        static let newest = InboxEnd(row: .max, parcel: .max)
    }

    /// Clicks moved per transaction by a reader settling the inbox.
    static let settleSlice = 1_024

    /// Moves the oldest clicks in the inbox, at least `limit` (or all that wait) and none after `last`, inside the
    /// caller's write: rows an older version left first, then whole parcels. Returns how many it moved.
    static func moveInbox(_ db: any SQLSession, limit: Int, upTo last: InboxEnd) throws -> Int {
        var moved = 0
        let rows = try db.cachedStatement(
            sql: "SELECT id, \(inboxColumnNames) FROM clickInbox WHERE id <= ? ORDER BY id LIMIT ?"
        ).query([last.row, limit])
        if let newest = rows.last?["id"] as Int64? {
            _ = try store(try rows.map(ClickRecord.init(inboxRow:)), in: db)
            try db.cachedStatement(sql: "DELETE FROM clickInbox WHERE id <= ?").execute(arguments: [newest])
            moved = rows.count
        }
        guard moved < limit else { return moved }
        // Each parcel holds one click at least, so the first `limit - moved` parcels hold enough; their sizes decide
        // where the slice ends before any text is read.
        let sizes = try db.cachedStatement(
            sql: "SELECT id, clicks FROM clickParcel WHERE id <= ? ORDER BY id LIMIT ?"
        ).query([last.parcel, limit - moved])
        var end: Int64?
        for size in sizes where moved < limit {
            moved += size["clicks"] as Int
            end = size["id"]
        }
        guard let end else { return moved }
        let parcels = try db.cachedStatement(
            sql: "SELECT id, clicks, lines FROM clickParcel WHERE id <= ? ORDER BY id"
        ).query([end])
        var clicks: [ClickRecord] = []
        for parcel in parcels {
            guard let some = ClickParcel.decode(parcel["lines"]), some.count == parcel["clicks"] as Int else {
                throw StoreError.failed(
                    "clickParcel row \(parcel["id"] as Int64? ?? -1) does not hold the clicks it counts; nothing "
                        + "was moved")
            }
            clicks += some
        }
        _ = try store(clicks, in: db)
        try db.cachedStatement(sql: "DELETE FROM clickParcel WHERE id <= ?").execute(arguments: [end])
        return moved
    }

    /// The columns of `clickInbox`, a row per click as versions before the parcels committed them: a click's
    /// stored columns, then what its reclassifications need.
    static let inboxColumnNames = clickColumnNames + ", taints, checkBefore"

    /// How those versions committed a click (the tests write it, to check that what they left is moved).
    static let inboxInsertSQL = """
        INSERT INTO clickInbox (\(inboxColumnNames))
        VALUES (\(Array(repeating: "?", count: clickColumns + 2).joined(separator: ", ")))
        """

    /// A click's `clickInbox` row. The moments of its reclassifications are kept as `Date` holds them (seconds since its
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
