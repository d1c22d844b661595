import Foundation
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// The backend for several machines: one PostgreSQL database. Writes take one transaction-scoped advisory lock,
/// so they keep SQLite's one-writer semantics (every read-then-write of the store stays correct) while reads and
/// autocommit statements run in parallel from any number of processes.
struct PostgresStore: StoreBackend {
    let pool: PostgresConnectionPool

    var dialect: SQLDialect { .postgres }

    /// Advisory lock keys, (class, object): one namespace for Advocate.
    enum LockKey {
        static let namespace: Int32 = 0x4164_7663  // "Advc"
        static let write: Int32 = 0
        static let migrate: Int32 = 1
        /// The key of a job that runs one at a time (digest runs lock keys of their own).
        static func send(_ job: String) -> Int32 { job == "invite" ? 3 : 4 }
    }

    /// Connects, checks the schema and applies the missing migrations.
    static func open(_ location: PostgresLocation) throws -> PostgresStore {
        let store = PostgresStore(pool: PostgresConnectionPool(location: location))
        try store.migrate()
        return store
    }

    /// Applies each missing migration in a transaction of its own with its name, under an advisory lock so that
    /// several servers starting at once migrate once. A database holding migrations this build does not know
    /// belongs to a newer Advocate: refused before anything is written.
    func migrate() throws {
        try pool.withConnection { connection in
            let session = PostgresSession(connection, logger: pool.logger)
            try session.execute(
                sql: "SELECT pg_advisory_lock(\(LockKey.namespace), \(LockKey.migrate))", arguments: [])
            defer {
                // A connection that cannot give the lock back is closed, which does: it never returns to the pool
                // still holding it.
                do {
                    try session.execute(
                        sql: "SELECT pg_advisory_unlock(\(LockKey.namespace), \(LockKey.migrate))", arguments: [])
                } catch { try? connection.close().wait() }
            }
            try session.execute(
                sql: "CREATE TABLE IF NOT EXISTS advocate_migrations (name TEXT PRIMARY KEY, appliedAt TEXT NOT NULL)",
                arguments: [])
            let applied = Set(try String.fetchAll(session, sql: "SELECT name FROM advocate_migrations"))
            let known = Set(AppDatabase.migrations.map(\.name))
            if let unknown = applied.subtracting(known).sorted().first {
                throw StoreError.newerSchema(
                    "\(pool.location) was written by a newer Advocate (it has migration \(unknown), which this one "
                        + "does not know); upgrade advocate")
            }
            for migration in AppDatabase.migrations where !applied.contains(migration.name) {
                try transaction(session, begin: ["BEGIN"]) {
                    if migration.name == AppDatabase.migrations.first?.name {
                        try session.execute(sql: "CREATE EXTENSION IF NOT EXISTS citext", arguments: [])
                    }
                    try migration.apply(session)
                    try session.execute(
                        sql: "INSERT INTO advocate_migrations (name, appliedAt) VALUES (?, ?)",
                        arguments: [migration.name, Date()])
                }
            }
        }
    }

    func appliedMigrations() throws -> [String] {
        let applied = Set(try read { try String.fetchAll($0, sql: "SELECT name FROM advocate_migrations") })
        return AppDatabase.migrations.map(\.name).filter(applied.contains)
    }

    func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try pool.withConnection(idempotent: true) { connection in
            let session = PostgresSession(connection, logger: pool.logger)
            // Queued with the first statement (one wait; a body that runs none sends nothing).
            session.prefix = ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"]
            return try finish(session, try body(session))
        }
    }

    func readStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try pool.withConnection(idempotent: true) { try body(PostgresSession($0, logger: pool.logger)) }
    }

    func writeStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try pool.withConnection { try body(PostgresSession($0, logger: pool.logger)) }
    }

    func write<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try pool.withConnection { connection in
            let session = PostgresSession(connection, logger: pool.logger)
            // A writer whose machine stopped mid-transaction would hold the write lock, which every write of every
            // server needs, until the server noticed: its session ends after two idle minutes (with the keepalives
            // set at connect, a dead machine's is noticed within about a minute).
            return try transaction(
                session,
                begin: [
                    "BEGIN", "SET LOCAL idle_in_transaction_session_timeout = '120s'",
                    "SELECT pg_advisory_xact_lock(\(LockKey.namespace), \(LockKey.write))",
                ]
            ) { try body(session) }
        }
    }

    /// Runs `body` between `begin` (queued together: one wait) and COMMIT, rolling back when anything fails.
    private func transaction<T>(_ session: PostgresSession, begin: [String], _ body: () throws -> T) throws -> T {
        let result: T
        do {
            try session.pipeline(begin)
            result = try body()
        } catch {
            try? session.execute(sql: "ROLLBACK", arguments: [])
            throw error
        }
        try session.execute(sql: "COMMIT", arguments: [])
        return result
    }

    /// Ends a read whose BEGIN went out with its first statement (nothing to end when it ran none).
    private func finish<T>(_ session: PostgresSession, _ result: @autoclosure () throws -> T) throws -> T {
        do {
            let value = try result()
            if session.prefix.isEmpty { try session.execute(sql: "COMMIT", arguments: []) }  // else: never begun
            return value
        } catch {
            try? session.execute(sql: "ROLLBACK", arguments: [])
            throw error
        }
    }

    /// A session advisory lock held on a connection of its own: the server releases it when that connection
    /// ends, which includes the process dying. Digest runs each lock their own random sender key, so several run
    /// at once and see which of them are alive; other jobs lock the job's key and run one at a time.
    func acquireSendLock(job: String) throws -> SendLock {
        let name = "advocate \(job) pid \(getpid()) on \(ProcessInfo.processInfo.hostName)"
        let connection = try pool.connect(name: name)
        let session = PostgresSession(connection, logger: pool.logger)
        if job == "send" {
            let sender = SendLock.newSender()
            do { try session.execute(sql: "SELECT pg_advisory_lock(\(sender))", arguments: []) } catch {
                try? connection.close().wait()
                throw error
            }
            let logger = pool.logger
            return SendLock(
                sender: sender,
                isHeld: {
                    let held = try? Bool.fetchOne(
                        PostgresSession(connection, logger: logger),
                        sql: """
                            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1
                              AND pid = pg_backend_pid() AND granted AND (classid::bigint << 32) | objid::bigint = ?)
                            """, arguments: [sender])
                    return held == true
                }
            ) { try? connection.close().wait() }
        }
        let key = LockKey.send(job)
        let taken: Bool
        do {
            taken =
                try Bool.fetchOne(
                    session, sql: "SELECT pg_try_advisory_lock(\(LockKey.namespace), \(key))") ?? false
        } catch {
            try? connection.close().wait()
            throw error
        }
        guard taken else {
            let holder =
                (try? String.fetchOne(
                    session,
                    sql: """
                        SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                        WHERE l.locktype = 'advisory' AND l.classid = \(UInt32(bitPattern: LockKey.namespace))
                          AND l.objid = \(key) AND l.granted
                        """)) ?? nil
            try? connection.close().wait()
            throw StoreError.sendLocked(SendLock.heldMessage(job: job, holder: holder ?? "another machine"))
        }
        // Checked before each batch, as a digest run's: a run whose lock connection ended (a restart of the server,
        // an idle timeout) may have a successor, and sends no more.
        let logger = pool.logger
        return SendLock(
            isHeld: {
                let held = try? Bool.fetchOne(
                    PostgresSession(connection, logger: logger),
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
                          AND pid = pg_backend_pid() AND granted
                          AND classid = \(UInt32(bitPattern: LockKey.namespace)) AND objid = \(key))
                        """)
                return held == true
            }
        ) { try? connection.close().wait() }
    }
}
