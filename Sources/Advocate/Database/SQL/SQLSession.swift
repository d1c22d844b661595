/// Which SQL the connection speaks, for the few statements that differ.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// One connection inside a read or a write of the store: the only way the store's methods reach a database.
/// Statements use `?` placeholders in both dialects.
public protocol SQLSession: AnyObject {
    var dialect: SQLDialect { get }
    /// Rows changed by the last statement executed.
    var changesCount: Int { get }
    /// Runs one statement, or several separated by semicolons when there are no arguments.
    func execute(sql: String, arguments: SQLArguments) throws
    /// The rows of a query.
    func fetchRows(sql: String, arguments: SQLArguments) throws -> [SQLRow]
    /// A statement prepared once per connection and reused.
    func cachedStatement(sql: String) throws -> SQLStatement
    /// Runs the statements in order and returns, for each, the rows it changed and the rows it returned. For use
    /// inside a write transaction: on PostgreSQL all are queued on the connection at once (the calling thread
    /// wakes once), and after a failure the rest fail too, so the transaction rolls back as a whole.
    func executeBatch(_ statements: [(sql: String, arguments: SQLArguments)]) throws -> [(changes: Int, rows: [SQLRow])]
    /// Calls `body` with the values of each row of a query, by position: on SQLite without collecting the rows, for
    /// scans too large to hold (the array is reused from row to row); elsewhere after fetching them.
    func forEachRow(sql: String, arguments: SQLArguments, _ body: ([SQLValue]) throws -> Void) throws
}

extension SQLSession {
    public func execute(sql: String) throws { try execute(sql: sql, arguments: []) }

    public func executeBatch(_ statements: [(sql: String, arguments: SQLArguments)]) throws -> [(
        changes: Int, rows: [SQLRow]
    )] {
        try statements.map {
            let rows = try cachedStatement(sql: $0.sql).query($0.arguments)
            return (changesCount, rows)
        }
    }

    public func forEachRow(sql: String, arguments: SQLArguments, _ body: ([SQLValue]) throws -> Void) throws {
        for row in try fetchRows(sql: sql, arguments: arguments) { try body(row.values) }
    }

}

/// A prepared statement of one session.
public struct SQLStatement {
    let run: (SQLArguments) throws -> Void
    let query: (SQLArguments) throws -> [SQLRow]

    /// Runs it with `arguments`.
    public func execute(arguments: SQLArguments = []) throws { try run(arguments) }
}

extension SQLRow {
    /// The rows of a query.
    public static func fetchAll(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> [SQLRow] {
        try db.fetchRows(sql: sql, arguments: arguments)
    }

    /// The first row of a query, if any.
    public static func fetchOne(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try db.fetchRows(sql: sql, arguments: arguments).first
    }

    /// The rows of a prepared statement.
    public static func fetchAll(_ statement: SQLStatement, arguments: SQLArguments = []) throws -> [SQLRow] {
        try statement.query(arguments)
    }
}

extension SQLValueConvertible {
    /// The first column of every row, skipping NULLs.
    public static func fetchAll(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchRows(sql: sql, arguments: arguments).compactMap { $0.values.first.flatMap(Self.fromSQLValue) }
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public static func fetchOne(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.fetchRows(sql: sql, arguments: arguments).first, let value = row.values.first else {
            return nil
        }
        if case .null = value { return nil }
        return fromSQLValue(value)
    }
}
