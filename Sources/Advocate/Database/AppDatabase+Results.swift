import AdvocateCore
import Foundation

/// What one ambassador's shares achieved. Human hits only: crawler and scanner hits never count.
public struct PersonalResults: Sendable, Hashable {
    public var weekShares = 0
    public var weekVisits = 0
    public var allShares = 0
    public var allVisits = 0
    /// Last week's shares a network's preview fetch or a reader confirmed.
    public var weekConfirmed = 0
    /// Last week's unique readers (per share per day).
    public var weekReaders = 0

    public init(
        weekShares: Int = 0, weekVisits: Int = 0, allShares: Int = 0, allVisits: Int = 0, weekConfirmed: Int = 0,
        weekReaders: Int = 0
    ) {
        self.weekShares = weekShares
        self.weekVisits = weekVisits
        self.allShares = allShares
        self.allVisits = allVisits
        self.weekConfirmed = weekConfirmed
        self.weekReaders = weekReaders
    }
}

/// What the whole team achieved in one week.
public struct TeamResults: Sendable, Hashable {
    public var sharers = 0
    public var shares = 0
    public var visits = 0
    public var bestItemTitle: String?
    public var bestItemVisits = 0
    /// Names and share counts of the top sharers who opted in to the leaderboard.
    public var topSharers: [String] = []
}

/// Results for every ambassador and the team, loaded once per run (one grouped query, not one per ambassador).
public struct ResultsSnapshot: Sendable {
    /// The week the figures are about: the one before the digest week.
    public var week: ISOWeek
    public var personal: [Int64: PersonalResults]
    public var team: TeamResults
}

extension AppDatabase {
    /// The results shown in the digest of `digestWeek`: last week's (and all-time) human shares and visits per
    /// ambassador, and the team's totals. A share is one ambassador sharing one item on one network, however often
    /// they click the button. With `only`, the personal figures are that one ambassador's (a preview's): read
    /// through their index instead of every ambassador's clicks.
    public func resultsSnapshot(digestWeek: ISOWeek, timeZone: TimeZone, only: Int64? = nil) throws -> ResultsSnapshot {
        let week = digestWeek.previous
        let from = week.start(in: timeZone)
        let to = digestWeek.start(in: timeZone)
        try settleClicks()
        return try read { db in
            var personal: [Int64: PersonalResults] = [:]
            for row in try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT ambassadorId,
                      COUNT(DISTINCT CASE WHEN class = 'human' AND kind = 'share' AND at >= ? AND at < ?
                                          THEN shareKey END) AS weekShares,
                      COUNT(CASE WHEN class = 'human' AND kind = 'visit' AND at >= ? AND at < ? THEN 1 END) AS weekVisits,
                      COUNT(DISTINCT CASE WHEN class = 'human' AND kind = 'share' THEN shareKey END) AS allShares,
                      COUNT(CASE WHEN class = 'human' AND kind = 'visit' THEN 1 END) AS allVisits,
                      COUNT(DISTINCT CASE WHEN class = 'human' AND kind = 'share' AND at >= ? AND at < ?
                                               AND \(AppDatabase.confirmed) THEN shareKey END) AS weekConfirmed,
                      COUNT(CASE WHEN class = 'human' AND kind = 'visit' AND newReader = 1 AND at >= ? AND at < ?
                                 THEN 1 END) AS weekReaders
                    FROM click
                    WHERE class IN ('human', 'crawler') AND ambassadorId IS NOT NULL AND kind IN ('share', 'visit')
                      \(only == nil ? "" : "AND ambassadorId = ?")
                    GROUP BY ambassadorId
                    """, arguments: [from, to, from, to, from, to, from, to] + (only.map { [$0] } ?? []))
            {
                personal[row["ambassadorId"]] = PersonalResults(
                    weekShares: row["weekShares"], weekVisits: row["weekVisits"] ?? 0, allShares: row["allShares"],
                    allVisits: row["allVisits"] ?? 0, weekConfirmed: row["weekConfirmed"] ?? 0,
                    weekReaders: row["weekReaders"] ?? 0)
            }
            var team = TeamResults()
            if let row = try SQLRow.fetchOne(
                db,
                sql: """
                    SELECT COUNT(DISTINCT CASE WHEN kind = 'share' THEN ambassadorId END) AS sharers,
                      \(ShareSQL.count) AS shares,
                      COUNT(CASE WHEN kind = 'visit' THEN 1 END) AS visits
                    FROM click WHERE class = 'human' AND at >= ? AND at < ?
                    """, arguments: [from, to])
            {
                team.sharers = row["sharers"]
                team.shares = row["shares"]
                team.visits = row["visits"] ?? 0
            }
            if let best = try SQLRow.fetchOne(
                db,
                sql: """
                    SELECT i.title, COUNT(CASE WHEN c.kind = 'visit' THEN 1 END) AS visits,
                           COUNT(CASE WHEN c.kind = 'share' THEN 1 END) AS shares
                    FROM click c JOIN contentItem i ON i.id = c.itemId
                    WHERE c.class = 'human' AND c.at >= ? AND c.at < ?
                    GROUP BY i.id, i.title ORDER BY visits DESC, shares DESC, i.id LIMIT 1
                    """, arguments: [from, to])
            {
                team.bestItemTitle = best["title"]
                team.bestItemVisits = best["visits"]
            }
            // Ties go to who joined first: the same order on SQLite and PostgreSQL, whatever their collations.
            team.topSharers = try String.fetchAll(
                db,
                sql: """
                    SELECT a.name FROM click c JOIN ambassador a ON a.id = c.ambassadorId
                    WHERE a.leaderboardOptIn = 1 AND c.kind = 'share' AND c.class = 'human' AND c.at >= ? AND c.at < ?
                    GROUP BY a.id
                    ORDER BY COUNT(DISTINCT c.shareKey) DESC, a.id LIMIT 3
                    """, arguments: [from, to])
            return ResultsSnapshot(week: week, personal: personal, team: team)
        }
    }

    /// Sets whether an ambassador agreed to be named on the leaderboard.
    public func setLeaderboardOptIn(_ optIn: Bool, ambassadorID: Int64, now: Date) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE ambassador SET leaderboardOptIn = ?, updatedAt = ? WHERE id = ?",
                arguments: [optIn, now, ambassadorID])
        }
    }
}
