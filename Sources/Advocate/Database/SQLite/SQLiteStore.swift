import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded backend: one SQLite file in WAL mode through GRDB.
struct SQLiteStore: StoreBackend {
    /// Access to the database.
    let writer: any DatabaseWriter
    /// The database file; the send locks live next to it.
    let fileURL: URL

    var dialect: SQLDialect { .sqlite }

    /// Opens (creating when needed) the database file in WAL mode and migrates it.
    static func open(at url: URL) throws -> SQLiteStore {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let pool = try DatabasePool(path: url.path, configuration: makeConfiguration())
            return try SQLiteStore(pool, fileURL: url)
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
        let migrator = Self.migrator
        let superseded = try writer.read { try migrator.hasBeenSuperseded($0) }
        if superseded {
            throw StoreError.newerSchema(
                "\(fileURL.path) was written by a newer Advocate (it has migrations this one does not know); "
                    + "upgrade advocate")
        }
        try migrator.migrate(writer)
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

    /// The store's migrations in GRDB's migrator, so existing files keep their migration history.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in AppDatabase.migrations {
            migrator.registerMigration(migration.name) { db in try migration.apply(SQLiteSession(db)) }
        }
        return migrator
    }

    func appliedMigrations() throws -> [String] {
        try writer.read { db in
            let applied = try Self.migrator.appliedIdentifiers(db)
            return AppDatabase.migrations.map(\.name).filter(applied.contains)  // in the order they were registered
        }
    }

    func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        do { return try writer.read { try body(SQLiteSession($0)) } } catch let error as DatabaseError {
            throw StoreError(error)
        }
    }

    /// One statement is a consistent read on its own (SQLite runs it in an implicit read transaction), so it is run
    /// without GRDB's `BEGIN`/`COMMIT` around it: the click server's lookups of a mail's first hit are two
    /// statements cheaper.
    func readStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        do { return try writer.unsafeRead { try body(SQLiteSession($0)) } } catch let error as DatabaseError {
            throw StoreError(error)
        }
    }

    func writeStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        do { return try writer.writeWithoutTransaction { try body(SQLiteSession($0)) } } catch let error
            as DatabaseError
        {
            throw StoreError(error)
        }
    }

    func write<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        do { return try writer.write { try body(SQLiteSession($0)) } } catch let error as DatabaseError {
            throw StoreError(error)
        }
    }

    /// An advisory lock (flock) on a file next to the database, holding the holder's pid.
    func acquireSendLock(job: String) throws -> SendLock {
        let path = fileURL.path + ".\(job)-lock"
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError.unavailable(path: path, reason: "cannot create the send lock") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &buffer, 31, 0)
            let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : "?"
            Glibc.close(descriptor)
            throw StoreError.sendLocked(
                SendLock.heldMessage(
                    job: job, holder: "pid \(holder.trimmingCharacters(in: .whitespacesAndNewlines))"))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        return SendLock {
            flock(descriptor, LOCK_UN)
            Glibc.close(descriptor)
        }
    }
}
