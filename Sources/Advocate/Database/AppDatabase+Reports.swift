import AdvocateCore
import Foundation

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

/// One line of a report. `shares` counts shares as ``ShareKey`` defines them (an ambassador sharing an item on a
/// network from one digest week, once however often they clicked), human clicks only; `sharesRaw` is every hit on share buttons, `visitsRaw` every hit on post links,
/// crawlers and scanners included.
public struct ReportRow: Sendable, Codable, Equatable {
    public var key: String
    public var shares: Int
    public var sharesRaw: Int
    public var visits: Int
    public var visitsRaw: Int
    public var sharers: Int
    /// Shares the network confirmed by fetching the post's link for its preview, or readers confirmed by arriving.
    public var confirmedShares = 0
    /// Unique readers: people new to a share on a day, summed over shares and days.
    public var readers = 0
    /// Earned media value: readers × the configured cost per click of their network (an estimate).
    public var earnedValue = 0.0
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

/// One group's additive figures: shares and visits as clicked, human visits, readers and their value.
private typealias AdditiveFigures = (
    key: SQLValue, sharesRaw: Int, visits: Int, visitsRaw: Int, readers: Int, value: Double
)

extension AppDatabase {
    /// Aggregates clicks by `grouping` within `filter`, plus a total row. Separate passes instead of one query
    /// with joins, run at the same time: additive counts from a plain scan by the raw column, distinct shares and
    /// sharers from the covering index `click_report`, confirmed shares from `click_share`; labels (titles,
    /// e-mails, themes) are looked up afterwards. On SQLite the counting is done here rather than by GROUP BY and
    /// DISTINCT, which sort. Over 10,000,000 clicks this answers in under 5 s (scripts/bench).
    public func report(
        _ filter: ReportFilter, by grouping: ReportGrouping, costPerClick: [Network: Double] = [:]
    ) throws -> (rows: [ReportRow], total: ReportRow) {
        try settleClicks()
        let (extra, values) = Self.scope(filter)
        let rawKey =
            switch grouping {
            case .item, .theme: "itemId"
            case .network: "network"
            case .ambassador: "ambassadorId"
            case .week: "week"
            }
        let distinctKey = grouping == .theme ? "(SELECT theme FROM contentItem WHERE id = click.itemId)" : rawKey
        // A reader of an item through two colleagues' posts is one reader of that item (and of its theme).
        let reader = grouping == .item || grouping == .theme ? "newItemReader" : "newReader"
        // Prices are numbers from the config, written into the query as literals.
        let price =
            costPerClick.isEmpty
            ? "0"
            : "CASE network "
                + costPerClick.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                    "WHEN '\($0.key.rawValue)' THEN \($0.value)"
                }.joined(separator: " ") + " ELSE 0 END"
        let additive = """
            SELECT \(rawKey) AS k, COUNT(CASE WHEN kind = 'share' THEN 1 END) AS sharesRaw,
                   COUNT(CASE WHEN kind = 'visit' AND class = 'human' THEN 1 END) AS visits,
                   COUNT(CASE WHEN kind = 'visit' THEN 1 END) AS visitsRaw,
                   COUNT(CASE WHEN kind = 'visit' AND class = 'human' AND \(reader) = 1 THEN 1 END) AS readers,
                   SUM(CASE WHEN kind = 'visit' AND class = 'human' AND \(reader) = 1 THEN \(price) ELSE 0 END) AS value
            FROM click\(dialect == .sqlite ? " NOT INDEXED" : "") WHERE kind IN ('share', 'visit')\(extra)
            """
        // Confirmed shares are counted among the shares (human share clicks in scope) that have evidence.
        let confirmed = """
            SELECT \(distinctKey) AS k, COUNT(DISTINCT shareKey) AS confirmed
            FROM click WHERE \(ShareSQL.humanShares) AND \(Self.confirmed)\(extra)
            """
        let distinct = """
            SELECT \(distinctKey) AS k, COUNT(DISTINCT shareKey) AS shares, COUNT(DISTINCT ambassadorId) AS sharers
            FROM click WHERE \(ShareSQL.humanShares)\(extra)
            """
        let arguments = SQLArguments(values)
        // On SQLite the additive figures are summed here rather than by GROUP BY, which sorts every click first
        // (most of the time over 10,000,000 clicks): each row gives its key, what it counts for, and its price, and
        // the table is scanned in parts by id, spread over the cores with the other passes.
        let flags = """
            SELECT \(rawKey) AS k,
                   (CASE WHEN kind = 'share' THEN 1 ELSE 2 END) + (CASE WHEN class = 'human' THEN 4 ELSE 0 END)
                   + (CASE WHEN \(reader) = 1 THEN 8 ELSE 0 END) AS f,
                   \(price) AS p
            FROM click NOT INDEXED WHERE kind IN ('share', 'visit')\(extra)
            """
        let parts: [(sql: String, arguments: SQLArguments)] =
            dialect == .sqlite
            ? try read { db in
                guard let low = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM click"),
                    let high = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM click")
                else { return [] }
                let count = 6
                let step = (high - low) / Int64(count) + 1
                return (0..<count).map { index in
                    let from = low + Int64(index) * step
                    return index == count - 1
                        ? (flags + " AND id >= ?", SQLArguments(values: arguments.values + [.integer(from)]))
                        : (
                            flags + " AND id >= ? AND id < ?",
                            SQLArguments(values: arguments.values + [.integer(from), .integer(from + step)])
                        )
                }
            } : []
        // The scans and the distinct counts run at the same time on separate read connections (WAL).
        // The additive figures by the pass that counted them (one SQL pass, or the parts of the scan).
        let additiveParts = Locked<[Int: [AdditiveFigures]]>([:])
        let confirmedRows = Locked<[(key: SQLValue, confirmed: Int)]>([])
        let distinctRows = Locked<[(key: SQLValue, shares: Int, sharers: Int)]>([])
        let totalSharers = Locked(0)
        let failure = Locked<StoreError?>(nil)
        // The longest single pass first; on SQLite the parts of the additive scan fill the cores after it.
        DispatchQueue.concurrentPerform(iterations: 4 + parts.count) { pass in
            do {
                switch pass {
                case 4...:
                    let part = parts[pass - 4]
                    let rows = try read { db in try Self.sumFlags(db, sql: part.sql, arguments: part.arguments) }
                    additiveParts.withLock { $0[pass] = rows }
                case 1 where !parts.isEmpty, 2 where !parts.isEmpty, 3 where !parts.isEmpty:
                    break  // counted in other passes
                case 0 where parts.isEmpty:
                    let rows = try read { db in
                        try SQLRow.fetchAll(db, sql: additive + " GROUP BY k", arguments: arguments).map { row in
                            let key: SQLValue = row["k"]
                            let sharesRaw: Int = row["sharesRaw"] ?? 0
                            let visits: Int = row["visits"] ?? 0
                            let visitsRaw: Int = row["visitsRaw"] ?? 0
                            let readers: Int = row["readers"] ?? 0
                            let value: Double = row["value"] ?? 0
                            return (key, sharesRaw, visits, visitsRaw, readers, value)
                        }
                    }
                    additiveParts.withLock { $0[pass] = rows }
                case 0:
                    let shares = try read { db in
                        try Self.humanShares(db, key: distinctKey, extra: extra, arguments: arguments)
                    }
                    distinctRows.withLock { $0 = shares.groups.map { ($0.key, $0.shares, $0.sharers) } }
                    confirmedRows.withLock { $0 = shares.groups.map { ($0.key, $0.confirmed) } }
                    totalSharers.withLock { $0 = shares.sharers }
                case 1:
                    let rows = try read { db in
                        try SQLRow.fetchAll(db, sql: distinct + " GROUP BY k", arguments: arguments).map {
                            (key: $0["k"] as SQLValue, shares: $0["shares"] ?? 0, sharers: $0["sharers"] ?? 0)
                        }
                    }
                    distinctRows.withLock { $0 = rows }
                case 2:
                    let rows = try read { db in
                        try SQLRow.fetchAll(db, sql: confirmed + " GROUP BY k", arguments: arguments).map {
                            (key: $0["k"] as SQLValue, confirmed: $0["confirmed"] ?? 0)
                        }
                    }
                    confirmedRows.withLock { $0 = rows }
                default:
                    // Every click belongs to exactly one group, so the total is the sum of the groups; only the
                    // number of distinct sharers needs its own (index-only) count.
                    let count = try read { db in
                        try Int.fetchOne(
                            db,
                            sql: """
                                SELECT COUNT(DISTINCT ambassadorId) FROM click
                                WHERE \(ShareSQL.humanShares)\(extra)
                                """, arguments: arguments) ?? 0
                    }
                    totalSharers.withLock { $0 = count }
                }
            } catch {
                failure.withLock { $0 = (error as? StoreError) ?? .failed("\(error)") }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        // The parts in their order, so that sums of prices come out the same on every run.
        let additivePass = additiveParts.withLock { $0 }.sorted { $0.key < $1.key }.flatMap(\.value)
        let distinctPass = distinctRows.withLock { $0 }
        let sharers = totalSharers.withLock { $0 }
        return try read { db in
            /// Figures keyed by the raw group value (`nil` for removed items and people).
            var figures: [String: ReportRow] = [:]
            var labels: [Int64: (title: String, theme: String?)] = [:]
            for row in try SQLRow.fetchAll(db, sql: "SELECT id, title, theme FROM contentItem") {
                labels[row["id"]] = (row["title"], row["theme"])
            }
            var emails: [Int64: String] = [:]
            if grouping == .ambassador {
                for row in try SQLRow.fetchAll(db, sql: "SELECT id, email FROM ambassador") {
                    emails[row["id"]] = row["email"]
                }
            }
            func label(_ value: SQLValue) -> String {
                switch grouping {
                case .item:
                    return Int64.fromSQLValue(value).flatMap { labels[$0]?.title } ?? "(removed item)"
                case .theme:
                    if let id = Int64.fromSQLValue(value) { return labels[id]?.theme ?? "(none)" }
                    return String.fromSQLValue(value) ?? "(none)"
                case .ambassador:
                    return Int64.fromSQLValue(value).flatMap { emails[$0] } ?? "(removed)"
                case .network, .week:
                    return String.fromSQLValue(value) ?? "-"
                }
            }
            /// Where a group's figures go, and its label: items by id (titles need not be unique: two items of one
            /// title are two rows, and someone who shared both is one sharer of each), the rest by label. A theme
            /// comes as its text from the passes that group by it.
            func slot(_ value: SQLValue, themeText: Bool = false) -> (slot: String, label: String) {
                if grouping == .item, let id = Int64.fromSQLValue(value), let item = labels[id] {
                    return ("\(id)", item.title)
                }
                let key = themeText && grouping == .theme ? (String.fromSQLValue(value) ?? "(none)") : label(value)
                return (key, key)
            }
            func empty(_ key: String) -> ReportRow {
                ReportRow(key: key, shares: 0, sharesRaw: 0, visits: 0, visitsRaw: 0, sharers: 0)
            }
            for row in additivePass {
                let (key, name) = slot(row.key)
                var entry = figures[key] ?? empty(name)
                entry.sharesRaw += row.sharesRaw
                entry.visits += row.visits
                entry.visitsRaw += row.visitsRaw
                entry.readers += row.readers
                entry.earnedValue += row.value
                figures[key] = entry
            }
            for row in confirmedRows.withLock({ $0 }) {
                let (key, name) = slot(row.key, themeText: true)
                var entry = figures[key] ?? empty(name)
                entry.confirmedShares += row.confirmed
                figures[key] = entry
            }
            for row in distinctPass {
                let (key, name) = slot(row.key, themeText: true)
                var entry = figures[key] ?? empty(name)
                entry.shares += row.shares
                entry.sharers += row.sharers
                figures[key] = entry
            }
            var total = empty("total")
            for row in figures.values {
                total.shares += row.shares
                total.sharesRaw += row.sharesRaw
                total.visits += row.visits
                total.visitsRaw += row.visitsRaw
                total.confirmedShares += row.confirmedShares
                total.readers += row.readers
                total.earnedValue += row.earnedValue
            }
            total.sharers = sharers
            func finish(_ row: ReportRow, mailed: Int?) -> ReportRow {
                var row = row
                row.mailed = mailed
                row.shareRate = mailed.flatMap { $0 > 0 ? Double(row.sharers) / Double($0) : nil }
                row.visitsPerShare = row.shares > 0 ? Double(row.visits) / Double(row.shares) : nil
                return row
            }
            // Ties by label, then by slot (two items of one title come out in the same order on every run).
            let rows = try figures.sorted {
                ($0.value.shares, $0.value.visits, $1.value.key, $1.key)
                    > ($1.value.shares, $1.value.visits, $0.value.key, $0.key)
            }.map { _, row in
                finish(row, mailed: grouping == .week ? try Self.mailed(db, filter: filter, week: row.key) : nil)
            }
            return (rows, finish(total, mailed: try Self.mailed(db, filter: filter, week: nil)))
        }
    }

    /// Shares, sharers and confirmed shares per group, and sharers in all, on SQLite: each human share's group, share
    /// and sharer from one stream, then one walk of `click_share` in shareKey order for the shares a visit confirmed,
    /// instead of a DISTINCT sort and one index probe per share. A share belongs to one group (its key names its
    /// person, item, network and week), so the groups' shares are the shares in scope.
    private static func humanShares(_ db: any SQLSession, key: String, extra: String, arguments: SQLArguments) throws
        -> (groups: [(key: SQLValue, shares: Int, sharers: Int, confirmed: Int)], sharers: Int)
    {
        var groups: [SQLValue: ShareGroup] = [:]
        try db.forEachRow(sql: humanSharesSQL(key: key, extra: extra), arguments: arguments) { row in
            groups[row[0], default: ShareGroup()].note(share: row[1], sharer: row[2])
        }
        // Without a filter every share is in scope: the whole of `click_share` is walked and every confirmed share
        // kept (one that is not a human share counts in no group). With one, the shares in scope decide: a modest
        // scope (a week, the dashboard's trend) is looked up rather than the whole index walked, and a walk keeps
        // only them, so memory follows the filter.
        let inScope = extra.isEmpty ? nil : groups.values.reduce(into: Set<Int64>()) { $0.formUnion($1.shares) }
        var confirmed = Set<Int64>()
        func note(_ row: [SQLValue]) {
            if case .integer(let share) = row[0], inScope?.contains(share) ?? true { confirmed.insert(share) }
        }
        if let inScope, inScope.count <= 50_000 {
            // Share keys are integers, written in as literals.
            let keys = inScope.sorted()
            for start in stride(from: 0, to: keys.count, by: 500) {
                let list = keys[start..<min(start + 500, keys.count)].map(String.init).joined(separator: ", ")
                try db.forEachRow(
                    sql: """
                        SELECT DISTINCT shareKey FROM click INDEXED BY click_share
                        WHERE shareKey IN (\(list)) AND kind = 'visit' AND confirms IS NOT NULL
                        """, arguments: [], note)
            }
        } else {
            try db.forEachRow(
                sql: """
                    SELECT shareKey FROM click INDEXED BY click_share
                    WHERE kind = 'visit' AND confirms IS NOT NULL GROUP BY shareKey
                    """, arguments: [], note)
        }
        let rows = groups.map { group in
            (
                group.key, group.value.shares.count, group.value.sharers.count,
                group.value.shares.reduce(0) { $0 + (confirmed.contains($1) ? 1 : 0) }
            )
        }
        return (rows, groups.values.reduce(into: Set<Int64>()) { $0.formUnion($1.sharers) }.count)
    }

    /// One group's distinct shares and sharers, as the share pass meets them.
    private struct ShareGroup {
        var shares = Set<Int64>()
        var sharers = Set<Int64>()

        mutating func note(share: SQLValue, sharer: SQLValue) {
            if case .integer(let key) = share { shares.insert(key) }
            if case .integer(let person) = sharer { sharers.insert(person) }
        }
    }

    /// The conditions that keep a report's clicks within `filter`, each beginning with " AND ", and their values.
    static func scope(_ filter: ReportFilter) -> (extra: String, values: [(any SQLValueConvertible)?]) {
        var conditions: [String] = []
        var values: [(any SQLValueConvertible)?] = []
        if let week = filter.week {
            conditions.append("week = ?")
            values.append(week.description)
        }
        if let from = filter.from {
            conditions.append("at >= ?")
            values.append(from)
        }
        if let to = filter.to {
            conditions.append("at < ?")
            values.append(to)
        }
        return (conditions.map { " AND " + $0 }.joined(), values)
    }

    /// Each human share in scope with its group and sharer, read from the covering index `click_report` alone (a
    /// date range is a seek in it).
    static func humanSharesSQL(key: String, extra: String) -> String {
        "SELECT \(key) AS k, shareKey, ambassadorId FROM click WHERE " + ShareSQL.humanShares + extra
    }

    /// Sums the rows of a `flags` scan by key: shares, human visits, visits, readers and their value.
    private static func sumFlags(_ db: any SQLSession, sql: String, arguments: SQLArguments) throws
        -> [AdditiveFigures]
    {
        var slots: [SQLValue: Int] = [:]
        var keys: [SQLValue] = []
        var sums: [(sharesRaw: Int, visits: Int, visitsRaw: Int, readers: Int, value: Double)] = []
        try db.forEachRow(sql: sql, arguments: arguments) { row in
            guard case .integer(let flags) = row[1] else { return }
            let slot: Int
            if let known = slots[row[0]] {
                slot = known
            } else {
                slot = sums.count
                slots[row[0]] = slot
                keys.append(row[0])
                sums.append((0, 0, 0, 0, 0))
            }
            if flags & 1 != 0 {
                sums[slot].sharesRaw += 1
                return
            }
            sums[slot].visitsRaw += 1
            guard flags & 4 != 0 else { return }
            sums[slot].visits += 1
            guard flags & 8 != 0 else { return }
            sums[slot].readers += 1
            switch row[2] {
            case .integer(let price): sums[slot].value += Double(price)
            case .real(let price): sums[slot].value += price
            default: break
            }
        }
        return zip(keys, sums).map { ($0, $1.sharesRaw, $1.visits, $1.visitsRaw, $1.readers, $1.value) }
    }

    /// Progress towards each goal, over the goal's own period in `timeZone`.
    public func progress(of goals: [Goal], timeZone: TimeZone) throws -> [GoalProgress] {
        try settleClicks()
        return try read { db in
            try goals.map { goal in
                let range = goal.span.range(in: timeZone)
                let row = try SQLRow.fetchOne(
                    db,
                    sql: """
                        SELECT \(ShareSQL.count) AS shares, COUNT(CASE WHEN kind = 'visit' THEN 1 END) AS visits,
                               COUNT(DISTINCT CASE WHEN kind = 'share' THEN ambassadorId END) AS active
                        FROM click
                        WHERE class = 'human' AND kind IN ('share', 'visit') AND at >= ? AND at < ?
                          AND (CAST(? AS TEXT) IS NULL OR itemId IN (SELECT id FROM contentItem WHERE theme = ?))
                        """, arguments: [range.lowerBound, range.upperBound, goal.theme, goal.theme])!
                return GoalProgress(
                    period: goal.period, theme: goal.theme, shares: row["shares"] ?? 0, sharesGoal: goal.shares,
                    visits: row["visits"] ?? 0, visitsGoal: goal.visits, activeAmbassadors: row["active"] ?? 0,
                    activeAmbassadorsGoal: goal.activeAmbassadors)
            }
        }
    }

    /// The people a digest was sent to, in a week or a time range: erased people left out, as they are from the
    /// sharers the share rate divides by it (else one figure counts them and the other not).
    private static func mailed(_ db: any SQLSession, filter: ReportFilter, week: String?) throws -> Int? {
        if let week = week ?? filter.week?.description {
            return try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(d.ambassadorId) FROM delivery d JOIN digest g ON g.id = d.digestId
                    WHERE g.week = ? AND d.status = 'sent'
                    """, arguments: [week])
        }
        return try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(DISTINCT ambassadorId) FROM delivery
                WHERE status = 'sent' AND (CAST(? AS TEXT) IS NULL OR sentAt >= ?) AND (CAST(? AS TEXT) IS NULL OR sentAt < ?)
                """, arguments: [filter.from, filter.from, filter.to, filter.to])
    }

    /// Ambassadors per status.
    public func ambassadorCounts() throws -> [AmbassadorStatus: Int] {
        try read { db in
            var counts: [AmbassadorStatus: Int] = [:]
            for row in try SQLRow.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM ambassador GROUP BY status") {
                if let status = AmbassadorStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    /// The most recent digest, if any.
    public func latestDigest() throws -> DigestRecord? {
        try read { db in
            try SQLRow.fetchOne(db, sql: "SELECT id, week FROM digest ORDER BY week DESC LIMIT 1").flatMap { row in
                (try? ISOWeek(parsing: row["week"])).map { DigestRecord(id: row["id"], week: $0) }
            }
        }
    }
}
