import Foundation
import GRDB

/// The SQLite store. It owns every SQL statement of Advocate: the rest of the code calls its methods and never
/// writes SQL. There is one backend today, so there is no store protocol yet; a second backend would introduce one
/// from the methods the jobs and the server call.
public struct AppDatabase: Sendable {
    /// Access to the database.
    let writer: any DatabaseWriter
    /// The database file; the send lock lives next to it.
    let fileURL: URL

    /// Opens (creating when needed) the database file in WAL mode and migrates it.
    public static func open(at url: URL) throws -> AppDatabase {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let pool = try DatabasePool(path: url.path, configuration: makeConfiguration())
            return try AppDatabase(pool, fileURL: url)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
        {
            throw StoreError(error)
        } catch let error as DatabaseError {
            throw StoreError.unavailable(path: url.path, reason: error.message ?? "\(error.resultCode)")
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unavailable(path: url.path, reason: error.localizedDescription)
        }
    }

    init(_ writer: any DatabaseWriter, fileURL: URL) throws {
        self.writer = writer
        self.fileURL = fileURL
        try Self.migrator.migrate(writer)
    }

    static func makeConfiguration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // WAL survives kill -9 with NORMAL; see README "Durability".
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in
            let applied = try Self.migrator.appliedIdentifiers(db)
            return Self.migrator.migrations.filter(applied.contains)  // in the order they were registered
        }
    }

    /// Runs a read, turning SQLite errors into ``StoreError``.
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch let error as DatabaseError { throw StoreError(error) }
    }

    /// Runs one statement on the writer without an explicit transaction: SQLite commits a single statement
    /// atomically on its own, and the send ledger saves a BEGIN/COMMIT round per message this way.
    func writeStatement(_ body: @Sendable (Database) throws -> Void) throws {
        do { try writer.writeWithoutTransaction(body) } catch let error as DatabaseError { throw StoreError(error) }
    }

    /// Runs a write in one transaction, turning SQLite errors into ``StoreError``.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try writer.write(body) } catch let error as DatabaseError { throw StoreError(error) }
    }
}
