import AdvocateCore
import Foundation
import GRDB

/// How a report groups clicks.
public enum ReportGrouping: String, Sendable, CaseIterable, Codable {
    case item, network, ambassador, theme, week
}

/// Which clicks a report covers: one digest week, a date range (click time), or everything.
public struct ReportFilter: Sendable, Codable, Equatable {
    /// Clicks on links mailed in this digest week.
    public var week: ISOWeek?
    /// Clicks at or after this moment.
    public var from: Date?
    /// Clicks before this moment.
    public var to: Date?

    public init(week: ISOWeek? = nil, from: Date? = nil, to: Date? = nil) {
        self.week = week
        self.from = from
        self.to = to
    }
}

/// One line of a report. `shares` counts an ambassador sharing an item on a network once however often they
/// clicked, human clicks only; `sharesRaw` is every hit on share buttons, `visitsRaw` every hit on post links,
/// crawlers and scanners included.
public struct ReportRow: Sendable, Codable, Equatable {
    public var key: String
    public var shares: Int
    public var sharesRaw: Int
    public var visits: Int
    public var visitsRaw: Int
    public var sharers: Int
    /// Ambassadors the digest was delivered to in the same scope (total and per week only).
    public var mailed: Int?
    /// sharers ÷ mailed.
    public var shareRate: Double?
    /// visits ÷ shares.
    public var visitsPerShare: Double?
}

/// Progress towards one goal of the plan.
public struct GoalProgress: Sendable, Codable, Equatable {
    public var period: String
    public var theme: String?
    public var shares: Int
    public var sharesGoal: Int?
    public var visits: Int
    public var visitsGoal: Int?
    /// Ambassadors with at least one human share in the period.
    public var activeAmbassadors: Int
    public var activeAmbassadorsGoal: Int?
}

extension AppDatabase {
    /// Aggregates clicks by `grouping` within `filter`, plus a total row. One grouped query; indexed columns only.
    public func report(_ filter: ReportFilter, by grouping: ReportGrouping) throws -> (
        rows: [ReportRow], total: ReportRow
    ) {
        let keyExpression =
            switch grouping {
            case .item: "COALESCE(i.title, '(removed item)')"
            case .network: "COALESCE(c.network, '-')"
            case .ambassador: "COALESCE(a.email, '(removed)')"
            case .theme: "COALESCE(i.theme, '(none)')"
            case .week: "c.week"
            }
        var conditions = ["c.kind IN ('share', 'visit')"]
        var arguments = StatementArguments()
        if let week = filter.week {
            conditions.append("c.week = ?")
            _ = arguments.append(contentsOf: [week.description])
        }
        if let from = filter.from {
            conditions.append("c.at >= ?")
            _ = arguments.append(contentsOf: [from])
        }
        if let to = filter.to {
            conditions.append("c.at < ?")
            _ = arguments.append(contentsOf: [to])
        }
        let measures = """
            COUNT(DISTINCT CASE WHEN c.kind = 'share' AND c.class = 'human'
                  THEN COALESCE(c.ambassadorId, 'anon' || c.id) || ':' || c.itemId || ':' || c.network || ':' || c.week END)
              AS shares,
            SUM(c.kind = 'share') AS sharesRaw,
            SUM(c.kind = 'visit' AND c.class = 'human') AS visits,
            SUM(c.kind = 'visit') AS visitsRaw,
            COUNT(DISTINCT CASE WHEN c.kind = 'share' AND c.class = 'human' THEN c.ambassadorId END) AS sharers
            """
        let from = """
            FROM click c LEFT JOIN contentItem i ON i.id = c.itemId LEFT JOIN ambassador a ON a.id = c.ambassadorId
            WHERE \(conditions.joined(separator: " AND "))
            """
        let sql =
            "SELECT \(keyExpression) AS key, \(measures) \(from) GROUP BY key ORDER BY shares DESC, visits DESC, key"
        let totalSQL = "SELECT 'total' AS key, \(measures) \(from)"
        let values = arguments
        return try read { db in
            let mailedTotal = try Self.mailed(db, filter: filter, week: nil)
            func row(_ row: Row, mailed: Int?) -> ReportRow {
                let shares: Int = row["shares"] ?? 0
                let visits: Int = row["visits"] ?? 0
                let sharers: Int = row["sharers"] ?? 0
                return ReportRow(
                    key: row["key"] ?? "", shares: shares, sharesRaw: row["sharesRaw"] ?? 0, visits: visits,
                    visitsRaw: row["visitsRaw"] ?? 0, sharers: sharers, mailed: mailed,
                    shareRate: mailed.flatMap { $0 > 0 ? Double(sharers) / Double($0) : nil },
                    visitsPerShare: shares > 0 ? Double(visits) / Double(shares) : nil)
            }
            let rows = try Row.fetchAll(db, sql: sql, arguments: values).map { found in
                let mailed =
                    grouping == .week
                    ? (try? Self.mailed(db, filter: filter, week: found["key"])) ?? nil : nil
                return row(found, mailed: mailed)
            }
            let total = row(try Row.fetchOne(db, sql: totalSQL, arguments: values)!, mailed: mailedTotal)
            return (rows, total)
        }
    }

    /// Progress towards each goal, over the goal's own period.
    public func progress(of goals: [Goal]) throws -> [GoalProgress] {
        try read { db in
            try goals.map { goal in
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(DISTINCT CASE WHEN c.kind = 'share'
                                 THEN COALESCE(c.ambassadorId, 'anon' || c.id) || ':' || c.itemId || ':' || c.network
                                      || ':' || c.week END) AS shares,
                               SUM(c.kind = 'visit') AS visits,
                               COUNT(DISTINCT CASE WHEN c.kind = 'share' THEN c.ambassadorId END) AS active
                        FROM click c LEFT JOIN contentItem i ON i.id = c.itemId
                        WHERE c.class = 'human' AND c.at >= ? AND c.at < ? AND (? IS NULL OR i.theme = ?)
                        """, arguments: [goal.start, goal.end, goal.theme, goal.theme])!
                return GoalProgress(
                    period: goal.period, theme: goal.theme, shares: row["shares"] ?? 0, sharesGoal: goal.shares,
                    visits: row["visits"] ?? 0, visitsGoal: goal.visits, activeAmbassadors: row["active"] ?? 0,
                    activeAmbassadorsGoal: goal.activeAmbassadors)
            }
        }
    }

    private static func mailed(_ db: Database, filter: ReportFilter, week: String?) throws -> Int? {
        if let week = week ?? filter.week?.description {
            return try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM delivery d JOIN digest g ON g.id = d.digestId
                    WHERE g.week = ? AND d.status = 'sent'
                    """, arguments: [week])
        }
        return try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(DISTINCT ambassadorId) FROM delivery
                WHERE status = 'sent' AND (? IS NULL OR sentAt >= ?) AND (? IS NULL OR sentAt < ?)
                """, arguments: [filter.from, filter.from, filter.to, filter.to])
    }

    /// Ambassadors per status.
    public func ambassadorCounts() throws -> [AmbassadorStatus: Int] {
        try read { db in
            var counts: [AmbassadorStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM ambassador GROUP BY status") {
                if let status = AmbassadorStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    /// The most recent digest, if any.
    public func latestDigest() throws -> DigestRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, week FROM digest ORDER BY week DESC LIMIT 1").flatMap { row in
                (try? ISOWeek(parsing: row["week"])).map { DigestRecord(id: row["id"], week: $0) }
            }
        }
    }
}
