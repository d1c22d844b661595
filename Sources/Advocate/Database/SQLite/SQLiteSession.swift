import Foundation
import GRDB
import GRDBSQLite

/// A GRDB connection seen as an ``SQLSession``. GRDB prepares, caches and finalizes the statements; values are bound
/// and read here with SQLite's own calls, because GRDB's generic argument and row conversions cost more than the
/// statements themselves on the hot paths (a click batch, a delivery's ledger notes, a report's scan).
///
/// Statements stepped this way bypass GRDB's bookkeeping around execution: transaction observers and
/// `ValueObservation` do not see their changes, schema changes do not clear GRDB's schema cache, and a transaction
/// SQLite rolled back by itself is not noticed by later statements. The store uses none of these: it registers no
/// observers, runs schema changes through `execute` without arguments (GRDB's own path), and never carries on in a
/// write after an error.
final class SQLiteSession: SQLSession {
    let db: Database

    init(_ db: Database) { self.db = db }

    var dialect: SQLDialect { .sqlite }
    var changesCount: Int { db.changesCount }

    func execute(sql: String, arguments: SQLArguments) throws {
        if arguments.values.isEmpty {
            try db.execute(sql: sql)
        } else {
            try run(try db.makeStatement(sql: sql), arguments) { _ in }
        }
    }

    func fetchRows(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        try rows(try db.makeStatement(sql: sql), arguments: arguments)
    }

    func cachedStatement(sql: String) throws -> SQLStatement {
        let statement = try db.cachedStatement(sql: sql)
        return SQLStatement(
            run: { [self] in try run(statement, $0) { _ in } },
            query: { [self] in try rows(statement, arguments: $0) })
    }

    func forEachRow(sql: String, arguments: SQLArguments, _ body: ([SQLValue]) throws -> Void) throws {
        let statement = try db.makeStatement(sql: sql)
        var values = [SQLValue](repeating: .null, count: Int(statement.columnCount))
        try run(statement, arguments) { handle in
            for index in values.indices { values[index] = Self.value(handle, CInt(index)) }
            try body(values)
        }
    }

    private func rows(_ statement: Statement, arguments: SQLArguments) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        var columns: SQLColumns?
        let count = statement.columnCount
        try run(statement, arguments) { handle in
            let shared = columns ?? SQLColumns(statement.columnNames)
            columns = shared
            var values: [SQLValue] = []
            values.reserveCapacity(count)
            for index in 0..<CInt(count) { values.append(Self.value(handle, index)) }
            rows.append(SQLRow(columns: shared, values: values))
        }
        return rows
    }

    /// Binds `arguments`, steps through every row (calling `row` with the statement on each), then resets the
    /// statement and clears its bindings, so that a cached statement holds no read transaction and keeps no copy of
    /// an address or a token.
    private func run(
        _ statement: Statement, _ arguments: SQLArguments, row: (OpaquePointer) throws -> Void
    ) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        guard Int(sqlite3_bind_parameter_count(handle)) == arguments.values.count else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "wrong number of statement arguments: \(arguments.values.count)", sql: statement.sql)
        }
        for (offset, value) in arguments.values.enumerated() {
            // PostgreSQL refuses U+0000 in text; SQLite would store it, and the two stores would differ.
            if case .text(let text) = value, text.utf8.contains(0) {
                throw StoreError.conflict(
                    "the change breaks a rule of the database (text may not hold a NUL character, U+0000)")
            }
            let code = Self.bind(value, to: handle, at: CInt(offset + 1))
            guard code == SQLITE_OK else { throw error(code, statement) }
        }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code, statement) }
            try row(handle)
        }
    }

    private func error(_ code: CInt, _ statement: Statement) -> DatabaseError {
        let connection = db.sqliteConnection
        // The connection's extended code refines the returned one, unless a call that sets no error code (a misuse)
        // left an older one there.
        let extended =
            connection.map { sqlite3_extended_errcode($0) }.flatMap { $0 & 0xFF == code & 0xFF ? $0 : nil }
            ?? code
        return DatabaseError(
            resultCode: ResultCode(rawValue: extended),
            message: connection.map { String(cString: sqlite3_errmsg($0)) }, sql: statement.sql)
    }

    private static func bind(_ value: SQLValue, to handle: OpaquePointer, at index: CInt) -> CInt {
        switch value {
        case .null:
            return sqlite3_bind_null(handle, index)
        case .integer(let int):
            return sqlite3_bind_int64(handle, index, int)
        case .real(let double):
            return sqlite3_bind_double(handle, index, double)
        case .text(let text):
            var text = text
            return text.withUTF8 { bytes in
                guard let start = bytes.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, transient) }
                return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(handle, index, $0, CInt(bytes.count), transient)
                }
            }
        case .blob(let bytes):
            return bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, CInt($0.count), transient) }
        }
    }

    /// SQLite copies the bound bytes (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func value(_ handle: OpaquePointer, _ index: CInt) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL:
            return .null
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, index))
            guard let bytes = sqlite3_column_text(handle, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        default:
            let count = Int(sqlite3_column_bytes(handle, index))
            guard let bytes = sqlite3_column_blob(handle, index), count > 0 else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        }
    }
}
