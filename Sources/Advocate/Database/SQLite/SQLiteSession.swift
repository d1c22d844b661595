import Foundation
import GRDB

/// A GRDB connection seen as an ``SQLSession``.
final class SQLiteSession: SQLSession {
    let db: Database

    init(_ db: Database) { self.db = db }

    var dialect: SQLDialect { .sqlite }
    var changesCount: Int { db.changesCount }

    func execute(sql: String, arguments: SQLArguments) throws {
        if arguments.values.isEmpty {
            try db.execute(sql: sql)
        } else {
            try db.execute(sql: sql, arguments: Self.arguments(arguments))
        }
    }

    func fetchRows(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        try Self.rows(try db.makeStatement(sql: sql), arguments: arguments)
    }

    func cachedStatement(sql: String) throws -> SQLStatement {
        let statement = try db.cachedStatement(sql: sql)
        return SQLStatement(
            run: { try statement.execute(arguments: Self.arguments($0)) },
            query: { try Self.rows(statement, arguments: $0) })
    }

    func forEachRow(sql: String, arguments: SQLArguments, _ body: ([SQLValue]) throws -> Void) throws {
        let statement = try db.makeStatement(sql: sql)
        let count = statement.columnCount
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        var values = [SQLValue](repeating: .null, count: count)
        while try cursor.next() != nil {
            // Straight from the statement: the row's generic accessors cost more than the scan itself.
            for index in 0..<count {
                values[index] = Self.value(
                    DatabaseValue(sqliteStatement: statement.sqliteStatement, index: CInt(index)))
            }
            try body(values)
        }
    }

    static func rows(_ statement: Statement, arguments: SQLArguments) throws -> [SQLRow] {
        let names = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        var rows: [SQLRow] = []
        var shared: SQLColumns?
        while let row = try cursor.next() {
            let columns = shared ?? SQLColumns(names)
            shared = columns
            var values: [SQLValue] = []
            values.reserveCapacity(names.count)
            for index in 0..<names.count { values.append(Self.value(row[index] as DatabaseValue)) }
            rows.append(SQLRow(columns: columns, values: values))
        }
        return rows
    }

    static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        StatementArguments(arguments.values.map(Self.databaseValue))
    }

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let int): int.databaseValue
        case .real(let double): double.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }

    static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let int): .integer(int)
        case .double(let double): .real(double)
        case .string(let text): .text(text)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
