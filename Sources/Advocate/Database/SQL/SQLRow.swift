/// One result row. Columns are found by name without regard to case: PostgreSQL folds unquoted names to lower
/// case, SQLite keeps them as written.
public struct SQLRow: Sendable {
    let names: [String]
    let values: [SQLValue]

    init(names: [String], values: [SQLValue]) {
        self.names = names
        self.values = values
    }

    /// The stored value of the column `name`, or `.null` when there is no such column.
    public func value(named name: String) -> SQLValue {
        if let index = names.firstIndex(of: name) { return values[index] }
        let lowered = name.lowercased()
        if let index = names.firstIndex(where: { $0.lowercased() == lowered }) { return values[index] }
        return .null
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

    /// The column at `index` as `T`.
    public subscript<T: SQLValueConvertible>(_ index: Int) -> T {
        guard let converted = T.fromSQLValue(values[index]) else {
            preconditionFailure("column \(index): cannot read \(values[index]) as \(T.self)")
        }
        return converted
    }

    /// The column at `index` as `T`, or nil when it is NULL.
    public subscript<T: SQLValueConvertible>(_ index: Int) -> T? {
        if case .null = values[index] { return nil }
        return T.fromSQLValue(values[index])
    }
}
