import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// A PostgresNIO connection seen as an ``SQLSession``. Calls block their thread on the connection's futures, so
/// they run where SQLite's did: the store's own threads, never an event loop.
final class PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    private(set) var changesCount = 0
    /// Statements queued just before the next one, so the thread waits once for both (a read's BEGIN).
    var prefix: [String] = []

    init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    var dialect: SQLDialect { .postgres }

    func execute(sql: String, arguments: SQLArguments) throws {
        if arguments.values.isEmpty, sql.contains(";") {
            // Several statements (schema): the extended protocol takes one at a time.
            for statement in PostgresPlaceholders.statements(sql) { _ = try run(statement, []) }
            changesCount = 0
            return
        }
        changesCount = try run(sql, arguments).metadata.rows ?? 0
    }

    func fetchRows(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        changesCount = result.metadata.rows ?? 0
        return try Self.rows(result)
    }

    static func rows(_ result: PostgresQueryResult) throws -> [SQLRow] {
        guard let first = result.rows.first else { return [] }
        let columns = SQLColumns(first.map(\.columnName))
        return try result.rows.map { row in SQLRow(columns: columns, values: try row.map(Self.value)) }
    }

    func cachedStatement(sql: String) throws -> SQLStatement {
        SQLStatement(
            run: { [self] in try execute(sql: sql, arguments: $0) },
            query: { [self] in try fetchRows(sql: sql, arguments: $0) })
    }

    func executeBatch(_ statements: [(sql: String, arguments: SQLArguments)]) throws -> [(
        changes: Int, rows: [SQLRow]
    )] {
        let results = try send(statements.map { Self.query($0.sql, $0.arguments) })
        changesCount = results.last?.metadata.rows ?? 0
        return try results.map { ($0.metadata.rows ?? 0, try Self.rows($0)) }
    }

    /// Runs several statements without arguments, queued together (the thread waits once).
    func pipeline(_ statements: [String]) throws {
        _ = try send(statements.map { PostgresQuery(unsafeSQL: $0) })
    }

    private func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        try send([Self.query(sql, arguments)])[0]
    }

    /// Queues the ``prefix`` and `queries` on the connection at once, waits for every answer (none is left
    /// running on the connection) and throws the first failure; returns the answers to `queries`.
    private func send(_ queries: [PostgresQuery]) throws -> [PostgresQueryResult] {
        let all = prefix.map { PostgresQuery(unsafeSQL: $0) } + queries
        let skipped = prefix.count
        prefix = []
        guard !connection.isClosed else {
            throw StoreError.unavailable(path: "PostgreSQL", reason: "the server closed the connection")
        }
        let futures = all.map { connection.query($0, logger: logger) }
        var results: [PostgresQueryResult] = []
        var failure: (any Error)?
        for future in futures {
            do { results.append(try answer(future)) } catch { failure = failure ?? error }
        }
        if let failure { throw PostgresErrors.converted(failure) }
        return Array(results.dropFirst(skipped))
    }

    /// Waits for `future`, or fails once the connection is closed. PostgresNIO drops a query written to a connection
    /// that has closed (the server restarted, or ended an idle session) without completing its future, so waiting
    /// for the future alone would block this thread, and the pool slot it holds, for ever. A check every second
    /// ends such a wait; it is cancelled with the answer (a callback on the connection's close instead would stay
    /// registered, with its result, until the connection closes).
    private func answer(_ future: EventLoopFuture<PostgresQueryResult>) throws -> PostgresQueryResult {
        let outcome = future.eventLoop.makePromise(of: PostgresQueryResult?.self)
        future.whenComplete { result in outcome.completeWith(result.map { $0 }) }
        let watch = future.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) {
            [connection] _ in
            // An answer that arrived before the close stands: a completed promise ignores this.
            if connection.isClosed { outcome.succeed(nil) }
        }
        defer { watch.cancel() }
        guard let result = try outcome.futureResult.wait() else {
            throw StoreError.unavailable(path: "PostgreSQL", reason: "the server closed the connection")
        }
        return result
    }

    private static func query(_ sql: String, _ arguments: SQLArguments) -> PostgresQuery {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let int): binds.append(int)
            case .real(let double): binds.append(double)
            case .text(let text): binds.append(InferredText(text: text))
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: PostgresPlaceholders.numbered(sql), binds: binds)
    }

    /// A cell as one of the storage classes both backends share.
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard let bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .numeric:
            // SUM and AVG of integers: whole numbers stay integers, as in SQLite.
            let decimal = try cell.decode(Decimal.self)
            let double = NSDecimalNumber(decimal: decimal).doubleValue
            if let int = Int64(exactly: double) { return .integer(int) }
            return .real(double)
        case .bytea: return .blob(Array(bytes.readableBytesView))
        default:
            // text, varchar, name, citext (an extension type without a fixed oid): UTF-8 in both formats.
            return .text(String(buffer: bytes))
        }
    }
}

/// Rewrites `?` placeholders as PostgreSQL's `$1, $2, …`, outside quoted text and comments; remembered per
/// statement text.
enum PostgresPlaceholders {
    private static let cache = NIOLockedValueBox([String: String]())

    static func numbered(_ sql: String) -> String {
        if let known = cache.withLockedValue({ $0[sql] }) { return known }
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quote: Character?
        var lineComment = false
        var previous: Character = " "
        for character in sql {
            if lineComment {
                if character == "\n" { lineComment = false }
            } else if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "-", previous == "-" {
                lineComment = true
            } else if character == "?" {
                number += 1
                output += "$\(number)"
                previous = character
                continue
            }
            output.append(character)
            previous = character
        }
        cache.withLockedValue { cache in
            if cache.count >= 2_000 { cache.removeAll() }  // statements with values written in stay few; bounded
            cache[sql] = output
        }
        return output
    }

    /// The statements of a script, split at semicolons outside quoted text; comments are dropped.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Character?
        var lineComment = false
        for character in sql {
            if lineComment {
                if character == "\n" {
                    lineComment = false
                    current.append(character)
                }
                continue
            }
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "-", current.last == "-" {
                current.removeLast()
                lineComment = true
                continue
            } else if character == ";" {
                statements.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        statements.append(current)
        return statements.filter { !$0.allSatisfy(\.isWhitespace) }
    }
}

/// Text sent without a declared type, so that the server takes the type of where it is used: compared with a
/// CITEXT column it is CITEXT (without case, and the column's index serves), as SQLite's NOCASE does.
struct InferredText: PostgresDynamicTypeEncodable {
    let text: String

    var psqlType: PostgresDataType { PostgresDataType(0) }
    var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeString(text)
    }
}
