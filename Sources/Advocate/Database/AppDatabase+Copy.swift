import Foundation

/// How many rows of one table a copy moved.
public struct TableCopy: Sendable, Equatable {
    public var table: String
    public var rows: Int
}

extension AppDatabase {
    /// Every table of the schema, parents before children (foreign keys), with the column that orders a copy in
    /// batches (nil: small tables read at once).
    static let tables: [(name: String, key: String?)] = [
        ("ambassador", "id"), ("contentItem", "id"), ("contentWeek", nil), ("suggestedText", "id"),
        ("contentVariant", nil), ("contentChange", "id"), ("digest", "id"), ("delivery", "id"), ("click", "id"),
        ("signup", "id"), ("membershipMail", "id"), ("invitation", "id"), ("suppression", nil), ("editor", "id"),
        ("editorSession", nil), ("feedState", nil), ("feedEntry", nil),
    ]

    /// Copies every row of this store, read from one snapshot, into `target`, which must be empty (freshly
    /// migrated), in one transaction of the target: a failure leaves it as it was. Identifiers are kept, and PostgreSQL's identity sequences
    /// continue after them. Afterwards the rows of each table are counted on both sides; a difference fails the
    /// copy. Returns the counts.
    public func copy(to target: AppDatabase, batch: Int = 2_000) throws -> [TableCopy] {
        // Clicks a server left in the inbox go into `click` first: the target has no inbox of its own.
        try settleClicks()
        let counts = try read { db in
            // The target's transaction runs inside this read, on this thread: the session is not shared.
            nonisolated(unsafe) let source = db
            // Settled above; a click a running server took since then would not reach the target.
            if dialect == .sqlite, case let waiting = try Self.inboxCount(source), waiting > 0 {
                throw StoreError.failed(
                    "\(waiting) clicks arrived while the copy began; stop `advocate serve` on this store and copy again"
                )
            }
            let sourceCounts = try Self.tables.map {
                try Int.fetchOne(source, sql: "SELECT COUNT(*) FROM \($0.name)") ?? 0
            }
            return try target.write { out in
                let counts = try Self.copyAll(from: source, into: out, batch: batch)
                // Checked before the target commits: a difference leaves it empty.
                for (index, table) in Self.tables.enumerated() where counts[index] != sourceCounts[index] {
                    throw StoreError.failed(
                        "copy check: \(table.name) has \(sourceCounts[index]) rows here but \(counts[index]) in the "
                            + "target; nothing was copied")
                }
                return counts
            }
        }
        return zip(Self.tables, counts).map { TableCopy(table: $0.name, rows: $1) }
    }

    /// Copies every table and returns the target's counts.
    private static func copyAll(from source: any SQLSession, into out: any SQLSession, batch: Int) throws -> [Int] {
        for table in Self.tables {
            if try Bool.fetchOne(out, sql: "SELECT EXISTS (SELECT 1 FROM \(table.name))") ?? false {
                throw StoreError.conflict(
                    "the target database is not empty (table \(table.name) has rows); copy only into a new one")
            }
        }
        for table in Self.tables {
            try copyTable(table.name, key: table.key, from: source, into: out, batch: batch)
            if table.key == "id" {
                try setNextID(of: table.name, to: try nextID(of: table.name, in: source), in: out)
            }
        }
        return try Self.tables.map { try Int.fetchOne(out, sql: "SELECT COUNT(*) FROM \($0.name)") ?? 0 }
    }

    /// The identifier the table's next row gets. Never reused: a removed person's old links carry their id.
    private static func nextID(of table: String, in db: any SQLSession) throws -> Int64 {
        let highest = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM \(table)") ?? 0
        switch db.dialect {
        case .sqlite:
            let used = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table])
            return max(highest, used ?? 0) + 1
        case .postgres:
            guard let sequence = try String.fetchOne(db, sql: "SELECT pg_get_serial_sequence('\(table)', 'id')") else {
                return highest + 1
            }
            let next =
                try Int64.fetchOne(
                    db, sql: "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM \(sequence)")
                ?? 1
            return max(highest + 1, next)
        }
    }

    /// Makes the table's next row get `next` (or later).
    private static func setNextID(of table: String, to next: Int64, in db: any SQLSession) throws {
        switch db.dialect {
        case .sqlite:
            try db.execute(
                sql: "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", arguments: [next - 1, table])
            if db.changesCount == 0, next > 1 {
                try db.execute(
                    sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", arguments: [table, next - 1])
            }
        case .postgres:
            try db.execute(
                sql: """
                    SELECT setval(pg_get_serial_sequence('\(table)', 'id'),
                                  GREATEST(?, COALESCE((SELECT MAX(id) FROM \(table)), 0) + 1), false)
                    """, arguments: [next])
        }
    }

    /// Moves one table in batches: ordered by `key` when it has one, else all at once.
    private static func copyTable(
        _ table: String, key: String?, from source: any SQLSession, into out: any SQLSession, batch: Int
    ) throws {
        var after: Int64 = .min
        while true {
            let rows =
                try key.map {
                    try SQLRow.fetchAll(
                        source, sql: "SELECT * FROM \(table) WHERE \($0) > ? ORDER BY \($0) LIMIT \(batch)",
                        arguments: [after])
                } ?? SQLRow.fetchAll(source, sql: "SELECT * FROM \(table)")
            guard let first = rows.first else { return }
            let names = first.names
            let placeholders = "(" + Array(repeating: "?", count: names.count).joined(separator: ", ") + ")"
            // PostgreSQL takes at most 65,535 parameters per statement, SQLite (as built upstream) 32,766.
            let limit = out.dialect == .postgres ? 60_000 : 32_000
            let perStatement = max(1, min(rows.count, limit / max(1, names.count)))
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(rows.count, start + perStatement)]
                var arguments = SQLArguments([])
                for row in chunk { arguments.values += row.values }
                try out.execute(
                    sql: "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES "
                        + Array(repeating: placeholders, count: chunk.count).joined(separator: ", "),
                    arguments: arguments)
                start += chunk.count
            }
            guard let key, rows.count == batch, let last: Int64 = rows.last?[key] else { return }
            after = last
        }
    }
}

extension AppDatabase {
    /// Every row of every table as text, sorted, per table: the same data gives the same dump on both backends
    /// (`store copy` round trips are checked with it).
    public func dump() throws -> [String: [String]] {
        try read { db in
            var tables: [String: [String]] = [:]
            for table in Self.tables {
                tables[table.name] = try SQLRow.fetchAll(db, sql: "SELECT * FROM \(table.name)").map { row in
                    row.values.map { value in
                        switch value {
                        case .null: "NULL"
                        case .integer(let int): String(int)
                        case .real(let double): String(double)
                        case .text(let text): "'\(text)'"
                        case .blob(let bytes): "x'\(bytes.map { String($0, radix: 16) }.joined())'"
                        }
                    }.joined(separator: "|")
                }.sorted()
            }
            return tables
        }
    }
}
