/// The values of a statement's `?` placeholders, in order.
public struct SQLArguments: Sendable, ExpressibleByArrayLiteral {
    public var values: [SQLValue]

    public init(_ values: [(any SQLValueConvertible)?]) {
        self.values = values.map { $0?.sqlValue ?? .null }
    }

    /// Values as stored.
    public init(values: [SQLValue]) { self.values = values }

    public init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        self.init(elements)
    }

    /// Appends the values of `other`.
    public static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments {
        var joined = lhs
        joined.values += rhs.values
        return joined
    }
}
