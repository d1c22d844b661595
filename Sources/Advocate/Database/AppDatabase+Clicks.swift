import AdvocateCore
import Foundation

/// One mail of a week as the click server needs it: when it was delivered, whether it is still on its way, and the
/// person's language (see ``AppDatabase/weekMails(week:after:count:)``).
public struct WeekMail: Sendable, Equatable {
    public var ambassadorID: Int64
    public var deliveredAt: Date?
    public var awaited: Bool
    public var language: Language
}

/// One hit on a tracked link, ready to be stored.
public struct ClickRecord: Sendable, Equatable {
    /// The kind as stored and counted: a share, a visit, or a trap (any other link a click server should never
    /// have been sent to by a person).
    public var storedKind: String {
        switch kind {
        case .share: "share"
        case .visit: "visit"
        case .trap, .unsubscribe, .invite, .preferences, .stopInvitations: "trap"
        }
    }

    public var at: Date
    public var kind: LinkToken.Kind
    public var week: ISOWeek
    public var itemID: Int64?
    public var network: Network?
    public var ambassadorID: Int64?
    public var verdict: ClickVerdict
    /// Earlier share hits of the same mail at these moments are reclassified as a scanner's too (the same
    /// client's hits before a honeypot hit, a burst or a paced walk).
    public var taints: [Date] = []
    /// The earlier hit on the same share link at this moment was a time-of-click check: reclassified.
    public var checkBefore: Date?
    /// A visit that confirms its share (`preview` or `reader`).
    public var confirms: String?
    /// A person new today to this share / this item (visits).
    public var newReader = false
    public var newItemReader = false
    /// The reverse proxy's id of the request (`X-Request-ID`): a request the proxy retried on another server after
    /// the first one stored it is stored once.
    public var requestID: String?

    /// Creates a record.
    public init(
        at: Date, kind: LinkToken.Kind, week: ISOWeek, itemID: Int64?, network: Network?, ambassadorID: Int64?,
        verdict: ClickVerdict, taints: [Date] = []
    ) {
        self.at = at
        self.kind = kind
        self.week = week
        self.itemID = itemID
        self.network = network
        self.ambassadorID = ambassadorID
        self.verdict = verdict
        self.taints = taints
    }
}

extension ClickRecord {
    /// The key of the share this click belongs to (share and visit clicks); see ``ShareKey``.
    var shareKey: Int64? {
        guard kind == .share || kind == .visit, let ambassadorID, let itemID, let network else { return nil }
        return ShareKey.of(ambassadorID: ambassadorID, itemID: itemID, network: network, week: week)
    }
}

extension AppDatabase {
    /// Whether the share of the `click` row at hand was confirmed (a preview fetch or a reader): evidence that
    /// outweighs timing, so no later pattern reclassifies it.
    static let confirmed = """
        EXISTS (SELECT 1 FROM click AS v WHERE v.shareKey = click.shareKey AND v.kind = 'visit' AND v.confirms IS NOT NULL)
        """

    /// Stores a batch of clicks in one transaction (group commit). Ambassadors and items that no longer exist are
    /// stored as NULL, so an erased ambassador's links keep counting anonymously.
    /// Returns, per click, whether it was stored (false: its request id was stored already, by the server that
    /// first took the request).
    @discardableResult
    public func insertClicks(_ clicks: [ClickRecord]) throws -> [Bool] {
        try write { db in try Self.store(clicks, in: db) }
    }

    /// Stores `clicks` in `click` inside the caller's transaction; see ``insertClicks(_:)``.
    static func store(_ clicks: [ClickRecord], in db: any SQLSession) throws -> [Bool] {
        var stored: [Bool] = []
        stored.reserveCapacity(clicks.count)
        // Work is queued and run in the order one by one would run it, so each reclassification sees exactly
        // the clicks before it; on PostgreSQL consecutive clicks go in multi-row INSERTs (one statement's
        // planning and executor start instead of one per click). Only a click with a request id can be
        // refused (stored before by another server): its reclassifications wait for that answer.
        var queue: [ClickWork] = []
        func flush() throws {
            guard !queue.isEmpty else { return }
            stored += try run(queue, in: db)
            queue.removeAll(keepingCapacity: true)
        }
        for click in clicks {
            queue.append(.insert(columns(of: click), requestID: click.requestID))
            let reclassifications = reclassifications(after: click)
            guard !reclassifications.isEmpty else { continue }
            if click.requestID != nil {
                try flush()
                // Already stored by the server that first took this request: nothing more to do for it.
                if stored.last == false { continue }
            }
            queue += reclassifications.map { .statement($0.sql, $0.arguments) }
        }
        try flush()
        return stored
    }

    /// Loads a large history of final clicks at once (the benchmarks' seeds; a bulk import). On SQLite the click
    /// table's indexes are dropped for the load and built again after it, in the same transaction: one sort per index
    /// instead of a random page per click and index, so 10,000,000 clicks take minutes instead of half an hour. Each
    /// click is stored as given, without the request id check or a reclassification. Elsewhere, group commits of
    /// 50,000 clicks.
    public func loadClicks(_ produce: @Sendable (_ add: (ClickRecord) throws -> Void) throws -> Void) throws {
        guard dialect == .sqlite else {
            var batch: [ClickRecord] = []
            try produce { click in
                batch.append(click)
                if batch.count == 50_000 {
                    try insertClicks(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try insertClicks(batch)
            return
        }
        try write { db in
            let indexes = try SQLRow.fetchAll(
                db,
                sql:
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'click' AND sql IS NOT NULL"
            )
            for index in indexes { try db.execute(sql: "DROP INDEX \"\(index["name"] as String)\"") }
            let placeholders = Array(repeating: "?", count: Self.clickColumns).joined(separator: ", ")
            let insert = try db.cachedStatement(
                sql: "INSERT INTO click (\(Self.clickColumnNames)) VALUES (\(placeholders))")
            try produce { click in try insert.execute(arguments: Self.columns(of: click)) }
            for index in indexes { try db.execute(sql: index["sql"] as String) }
        }
    }

    /// A step of a click batch: a click to insert, or a statement that reclassifies earlier ones.
    enum ClickWork {
        case insert(SQLArguments, requestID: String?)
        case statement(String, SQLArguments)
    }

    /// Runs the queued work, consecutive inserts as one statement, and returns per insert whether it was stored.
    private static func run(_ queue: [ClickWork], in db: any SQLSession) throws -> [Bool] {
        var statements: [(sql: String, arguments: SQLArguments)] = []
        var groups: [(statement: Int, requestIDs: [String?])] = []
        var rows: [SQLValue] = []
        var requestIDs: [String?] = []
        // Statement texts of a few fixed sizes only, so that the texts remembered per statement (GRDB's statement
        // cache, the PostgreSQL placeholder cache) stay few; SQLite saves nothing by merging rows, so it inserts one
        // row per statement as before.
        let sizes = db.dialect == .postgres ? insertSizes : [1]
        func close() {
            var start = 0
            while start < requestIDs.count {
                let size = sizes.first { $0 <= requestIDs.count - start } ?? 1
                groups.append((statements.count, Array(requestIDs[start..<start + size])))
                let values = Array(rows[start * clickColumns..<(start + size) * clickColumns])
                statements.append((insertClicks(count: size), SQLArguments(values: values)))
                start += size
            }
            rows.removeAll(keepingCapacity: true)
            requestIDs.removeAll(keepingCapacity: true)
        }
        for work in queue {
            switch work {
            case .insert(let values, let requestID):
                rows += values.values
                requestIDs.append(requestID)
            case .statement(let sql, let arguments):
                close()
                statements.append((sql, arguments))
            }
        }
        close()
        let results = try db.executeBatch(statements)
        var stored: [Bool] = []
        for group in groups {
            let returned = results[group.statement].rows
            var new = Set(returned.compactMap { $0["requestId"] as String? })
            // A row without a request id is always stored; one with an id only when the database took it (and
            // only once, should the same id come twice in a batch).
            let flags = group.requestIDs.map { id in id.map { new.remove($0) != nil } ?? true }
            guard flags.filter({ $0 }).count == returned.count else {
                throw StoreError.failed("the database refused clicks it should have stored (a constraint?)")
            }
            stored += flags
        }
        return stored
    }

    /// The row counts multi-row click INSERTs come in on PostgreSQL (a run of clicks is split into these).
    static let insertSizes = [256, 128, 64, 32, 16, 8, 4, 2, 1]

    /// The statement that stores one click on SQLite, for the benchmark's peer to run the same inserts.
    public static var clickInsertSQL: String { insertClicks(count: 1) }

    /// How many columns one inserted click has.
    static let clickColumns = clickColumnNames.split(separator: ",").count

    /// The columns of one inserted click, in the order of ``columns(of:)``.
    static let clickColumnNames = """
        at, kind, week, itemId, network, ambassadorId, class, reason, shareKey, confirms, newReader, newItemReader,
        requestId
        """

    /// The values `click` is stored with.
    static func columns(of click: ClickRecord) -> SQLArguments {
        [
            click.at, click.storedKind, click.week.description, click.itemID, click.network?.rawValue,
            click.ambassadorID, click.verdict.classification.rawValue, click.verdict.reason, click.shareKey,
            click.confirms, click.newReader, click.newItemReader, click.requestID,
        ]
    }

    /// An INSERT of `count` clicks; ambassadors and items that no longer exist become NULL; a request id stored
    /// before is skipped. It returns the request ids it stored.
    static func insertClicks(count: Int) -> String {
        let row = """
            (?, ?, ?, (SELECT id FROM contentItem WHERE id = ?), ?, (SELECT id FROM ambassador WHERE id = ?), ?, ?, ?,
             ?, ?, ?, ?)
            """
        return """
            INSERT INTO click (\(clickColumnNames))
            VALUES \(Array(repeating: row, count: count).joined(separator: ", "))
            ON CONFLICT DO NOTHING RETURNING requestId
            """
    }

    /// The statements that reclassify earlier clicks once `click` is stored.
    static func reclassifications(after click: ClickRecord) -> [(sql: String, arguments: SQLArguments)] {
        var statements: [(sql: String, arguments: SQLArguments)] = []
        if let check = click.checkBefore, let key = click.shareKey {
            statements.append(
                (
                    """
                    UPDATE click SET class = 'scanner', reason = 'time-of-click check'
                    WHERE shareKey = ? AND kind = 'share' AND class = 'human' AND at BETWEEN ? AND ?
                      AND NOT \(Self.confirmed)
                    """, [key, check.addingTimeInterval(-0.002), check.addingTimeInterval(0.002)]
                ))
        }
        if click.confirms != nil, let key = click.shareKey {
            // Evidence from the network or from readers: the share happened. A share click held for a scanner's
            // on behaviour alone (timing, other links) is the person's after all.
            statements.append(
                (
                    """
                    UPDATE click SET class = 'human', reason = ?
                    WHERE id = (SELECT id FROM click WHERE shareKey = ? AND kind = 'share' AND class = 'scanner'
                                  AND (reason LIKE 'within %' OR reason LIKE 'several links%'
                                       OR reason LIKE 'paced:%')
                                ORDER BY id DESC LIMIT 1)
                      AND NOT EXISTS (SELECT 1 FROM click WHERE shareKey = ? AND kind = 'share' AND class = 'human')
                    """,
                    [
                        "confirmed by \(click.confirms == "preview" ? "the network's preview" : "a reader")", key, key,
                    ]
                ))
        }
        if let ambassador = click.ambassadorID {
            let reason =
                click.kind == .trap || click.verdict.reason == "after the honeypot link"
                ? "honeypot link of the same mail hit together"
                : click.verdict.reason.hasPrefix("paced")
                    ? "paced: links of the same mail hit together"
                    : "several links of the same mail hit together"
            for moment in click.taints {
                statements.append(
                    (
                        """
                        UPDATE click SET class = 'scanner', reason = ?
                        WHERE ambassadorId = ? AND week = ? AND kind = 'share' AND class = 'human'
                          AND at BETWEEN ? AND ? AND NOT \(Self.confirmed)
                        """,
                        [
                            reason, ambassador, click.week.description, moment.addingTimeInterval(-0.002),
                            moment.addingTimeInterval(0.002),
                        ]
                    ))
            }
        }
        return statements
    }

    /// When the digest of `week` was accepted for delivery to this ambassador, if it was, and whether it is still
    /// on its way (pending, being handed over, or to be retried: its time may be recorded at any moment).
    public func deliveredAt(ambassadorID: Int64, week: ISOWeek) throws -> (at: Date?, awaited: Bool) {
        try readStatement { db in
            // Cached: the click server asks once per ambassador and week a minute (a second while it is awaited).
            let statement = try db.cachedStatement(
                sql: """
                    SELECT d.sentAt, d.status FROM delivery d JOIN digest g ON g.id = d.digestId
                    WHERE d.ambassadorId = ? AND g.week = ?
                    """)
            guard let row = try SQLRow.fetchAll(statement, arguments: [ambassadorID, week.description]).first else {
                return (nil, false)
            }
            return (row["sentAt"] as Date?, Self.isAwaited(row["status"]))
        }
    }

    /// What the click server needs of one mail when neither is cached: its delivery (as
    /// ``deliveredAt(ambassadorID:week:)``) and the ambassador's language (`nil` once they are erased), in one read.
    public func mailFacts(ambassadorID: Int64, week: ISOWeek) throws -> (
        deliveredAt: Date?, awaited: Bool, language: Language?
    ) {
        try readStatement { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT a.language, d.sentAt, d.status FROM ambassador a
                    LEFT JOIN digest g ON g.week = ?
                    LEFT JOIN delivery d ON d.digestId = g.id AND d.ambassadorId = a.id
                    WHERE a.id = ?
                    """)
            guard let row = try SQLRow.fetchAll(statement, arguments: [week.description, ambassadorID]).first else {
                return (nil, false, nil)
            }
            return (row["sentAt"] as Date?, Self.isAwaited(row["status"]), Language(rawValue: row["language"]) ?? .nl)
        }
    }

    /// How many of `week`'s mails ``weekMails(week:after:count:)`` reads in all.
    public func weekMailCount(week: ISOWeek) throws -> Int {
        try readStatement { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) \(Self.weekMails)", arguments: [week.description]) ?? 0
        }
    }

    /// Up to `count` of the deliveries of `week`'s digest to people not removed, the first of those whose
    /// ambassador comes after `after`, in that order, with the person's language, as
    /// ``mailFacts(ambassadorID:week:)`` reads them one mail at a time. The click server reads a week at once, a page
    /// at a time, when many of its mails are missed: each of the week's mails is first clicked within moments of its
    /// delivery (a scanner), and a read per mail cost as much as the click.
    public func weekMails(week: ISOWeek, after: Int64, count: Int) throws -> [WeekMail] {
        try readStatement { db in
            try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT d.ambassadorId, a.language, d.sentAt, d.status \(Self.weekMails)
                      AND d.ambassadorId > ? ORDER BY d.ambassadorId LIMIT ?
                    """, arguments: [week.description, after, count]
            ).map { row in
                WeekMail(
                    ambassadorID: row["ambassadorId"], deliveredAt: row["sentAt"],
                    awaited: Self.isAwaited(row["status"]),
                    language: Language(rawValue: row["language"]) ?? .nl)
            }
        }
    }

    /// A week's mails to people not removed (one bound argument: the week).
    private static let weekMails = """
        FROM digest g JOIN delivery d ON d.digestId = g.id JOIN ambassador a ON a.id = d.ambassadorId
        WHERE g.week = ?
        """

    /// Whether a delivery of this status may still be accepted by the relay.
    private static func isAwaited(_ status: String?) -> Bool {
        switch status.flatMap(DeliveryStatus.init(rawValue:)) {
        case .pending, .sending, .retry: true
        default: false
        }
    }

    /// The proxy's request id of every stored click (`nil` where none came), for tests.
    public func clickRequestIDs() throws -> [String?] {
        try settleClicks()
        return try read { db in
            try SQLRow.fetchAll(db, sql: "SELECT requestId FROM click ORDER BY id").map { $0["requestId"] as String? }
        }
    }

    /// The reasons recorded with clicks, for tests.
    public func clickReasons() throws -> [String] {
        try settleClicks()
        return try read { db in try String.fetchAll(db, sql: "SELECT reason FROM click ORDER BY id") }
    }

    /// Click counts per kind and class, for tests and the load check.
    public func clickCounts() throws -> [String: Int] {
        try settleClicks()
        return try read { db in
            var counts: [String: Int] = [:]
            for row in try SQLRow.fetchAll(db, sql: "SELECT kind, class, COUNT(*) AS n FROM click GROUP BY kind, class")
            {
                counts["\(row["kind"] as String)/\(row["class"] as String)"] = row["n"]
            }
            return counts
        }
    }
}
