import AdvocateCore
import Foundation
import GRDB

/// One hit on a tracked link, ready to be stored.
public struct ClickRecord: Sendable, Equatable {
    public var at: Date
    public var kind: LinkToken.Kind
    public var week: ISOWeek
    public var itemID: Int64?
    public var network: Network?
    public var ambassadorID: Int64?
    public var verdict: ClickVerdict
    /// When set, the mail's other share hits within this many seconds are reclassified as scanner hits too
    /// (a honeypot hit, or a burst over several links).
    public var taintsMailWithin: TimeInterval?
    /// The earlier hit on the same share link at this moment was a time-of-click check: reclassified.
    public var checkBefore: Date?
    /// A visit that confirms its share (`preview` or `reader`).
    public var confirms: String?
    /// A person new today to this share / this item (visits).
    public var newReader = false
    public var newItemReader = false

    /// Creates a record.
    public init(
        at: Date, kind: LinkToken.Kind, week: ISOWeek, itemID: Int64?, network: Network?, ambassadorID: Int64?,
        verdict: ClickVerdict, taintsMailWithin: TimeInterval? = nil
    ) {
        self.at = at
        self.kind = kind
        self.week = week
        self.itemID = itemID
        self.network = network
        self.ambassadorID = ambassadorID
        self.verdict = verdict
        self.taintsMailWithin = taintsMailWithin
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
    /// Stores a batch of clicks in one transaction (group commit). Ambassadors and items that no longer exist are
    /// stored as NULL, so an erased ambassador's links keep counting anonymously.
    public func insertClicks(_ clicks: [ClickRecord]) throws {
        try write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO click (at, kind, week, itemId, network, ambassadorId, class, reason, shareKey,
                                       confirms, newReader, newItemReader)
                    VALUES (?, ?, ?, (SELECT id FROM contentItem WHERE id = ?), ?,
                            (SELECT id FROM ambassador WHERE id = ?), ?, ?, ?, ?, ?, ?)
                    """)
            for click in clicks {
                let kind =
                    switch click.kind {
                    case .share: "share"
                    case .visit: "visit"
                    case .trap, .unsubscribe, .invite, .preferences: "trap"
                    }
                try statement.execute(arguments: [
                    click.at, kind, click.week.description, click.itemID, click.network?.rawValue, click.ambassadorID,
                    click.verdict.classification.rawValue, click.verdict.reason, click.shareKey, click.confirms,
                    click.newReader, click.newItemReader,
                ])
                if let check = click.checkBefore, let key = click.shareKey {
                    try db.execute(
                        sql: """
                            UPDATE click SET class = 'scanner', reason = 'time-of-click check'
                            WHERE shareKey = ? AND kind = 'share' AND class = 'human' AND at BETWEEN ? AND ?
                            """,
                        arguments: [key, check.addingTimeInterval(-0.002), check.addingTimeInterval(0.002)])
                }
                if click.confirms != nil, let key = click.shareKey {
                    // Evidence from the network or from readers: the share happened. A share click held for a
                    // scanner's on behaviour alone (timing, other links) is the person's after all.
                    try db.execute(
                        sql: """
                            UPDATE click SET class = 'human', reason = ?
                            WHERE id = (SELECT id FROM click WHERE shareKey = ? AND kind = 'share' AND class = 'scanner'
                                          AND (reason LIKE 'within %' OR reason LIKE 'several links%'
                                               OR reason LIKE 'paced:%' OR reason LIKE '% of the same mail hit together')
                                        ORDER BY id DESC LIMIT 1)
                              AND NOT EXISTS (SELECT 1 FROM click WHERE shareKey = ? AND kind = 'share' AND class = 'human')
                            """,
                        arguments: [
                            "confirmed by \(click.confirms == "preview" ? "the network's preview" : "a reader")", key,
                            key,
                        ])
                }
                if let window = click.taintsMailWithin, let ambassador = click.ambassadorID {
                    try db.execute(
                        sql: """
                            UPDATE click SET class = 'scanner', reason = ?
                            WHERE ambassadorId = ? AND week = ? AND kind = 'share' AND class = 'human'
                              AND at BETWEEN ? AND ?
                            """,
                        arguments: [
                            click.kind == .trap
                                ? "honeypot link of the same mail hit together"
                                : click.verdict.reason.hasPrefix("paced")
                                    ? "paced: links of the same mail hit together"
                                    : "several links of the same mail hit together",
                            ambassador, click.week.description, click.at.addingTimeInterval(-window),
                            click.at.addingTimeInterval(window),
                        ])
                }
            }
        }
    }

    /// When the digest of `week` was accepted for delivery to this ambassador, if it was.
    public func deliveredAt(ambassadorID: Int64, week: ISOWeek) throws -> Date? {
        try read { db in
            try Date.fetchOne(
                db,
                sql: """
                    SELECT d.sentAt FROM delivery d JOIN digest g ON g.id = d.digestId
                    WHERE d.ambassadorId = ? AND g.week = ?
                    """,
                arguments: [ambassadorID, week.description])
        }
    }

    /// The reasons recorded with clicks, for tests.
    public func clickReasons() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT reason FROM click ORDER BY id") }
    }

    /// Click counts per kind and class, for tests and the load check.
    public func clickCounts() throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, class, COUNT(*) AS n FROM click GROUP BY kind, class") {
                counts["\(row["kind"] as String)/\(row["class"] as String)"] = row["n"]
            }
            return counts
        }
    }
}
