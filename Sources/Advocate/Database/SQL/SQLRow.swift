/// One result row. Columns are found by name without regard to case: PostgreSQL folds unquoted names to lower
/// case, SQLite keeps them as written.
public struct SQLRow: Sendable {
    let columns: SQLColumns
    let values: [SQLValue]

    init(columns: SQLColumns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The column names, as the database gave them.
    var names: [String] { columns.names }

    /// The stored value of the column `name`, or `.null` when there is no such column.
    public func value(named name: String) -> SQLValue {
        columns.index(of: name).map { values[$0] } ?? .null
    }

    /// The column `name` as `T`; a NULL or a value that does not convert is a programming error, as in GRDB.
    public subscript<T: SQLValueConvertible>(_ name: String) -> T {
        let value = value(named: name)
        guard let converted = T.fromSQLValue(value) else {
            preconditionFailure("column \(name): cannot read \(value) as \(T.self)")
        }
        return converted
    }

    /// The column `name` as `T`, or nil when it is NULL.
    public subscript<T: SQLValueConvertible>(_ name: String) -> T? {
        let value = value(named: name)
        if case .null = value { return nil }
        return T.fromSQLValue(value)
    }
}

/// The columns of a result, shared by its rows, with their positions by name and by lower-cased name.
final class SQLColumns: Sendable {
    let names: [String]
    private let exact: [String: Int]
    private let folded: [String: Int]

    init(_ names: [String]) {
        self.names = names
        exact = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        folded = Dictionary(names.enumerated().map { ($1.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The position of `name`, matched as written or else without regard to case.
    func index(of name: String) -> Int? { exact[name] ?? folded[name.lowercased()] }
}
