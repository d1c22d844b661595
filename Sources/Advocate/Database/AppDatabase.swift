import Foundation

/// The store. It owns every SQL statement of Advocate: the rest of the code calls its methods and never writes
/// SQL. The statements run on either backend (``StoreBackend``): SQLite, the embedded default, or PostgreSQL when
/// several machines share one database.
public struct AppDatabase: Sendable {
    let backend: any StoreBackend

    /// Opens (creating when needed) the SQLite file at `url` in WAL mode and migrates it.
    public static func open(at url: URL) throws -> AppDatabase {
        AppDatabase(backend: try SQLiteStore.open(at: url))
    }

    /// Opens the store at `location` and migrates it.
    public static func open(_ location: StoreLocation) throws -> AppDatabase {
        switch location {
        case .sqlite(let url): try open(at: url)
        case .postgres(let configuration): AppDatabase(backend: try PostgresStore.open(configuration))
        }
    }

    /// Which backend this is, for the few statements that differ.
    var dialect: SQLDialect { backend.dialect }

    /// Whether several digest runs of one week may send at once (PostgreSQL); SQLite refuses a second run.
    public var allowsSeveralSenders: Bool { dialect == .postgres }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] { try backend.appliedMigrations() }

    /// Runs a read on a consistent snapshot.
    func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T { try backend.read(body) }

    /// Runs a read of one statement, which is its own snapshot: no transaction around it (on PostgreSQL one round
    /// trip instead of three, on SQLite no `BEGIN`/`COMMIT`; the click server's cache misses are such reads).
    func readStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try backend.readStatement(body)
    }

    /// Runs one statement without an explicit transaction: it commits atomically on its own, and the send ledger
    /// saves a BEGIN/COMMIT round per message this way.
    func writeStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T {
        try backend.writeStatement(body)
    }

    /// Runs a write in one transaction. Writes are serialised, on PostgreSQL too (see ``PostgresStore``).
    func write<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T { try backend.write(body) }

    /// Takes the send lock of this database (`job` names it: digests and invitations have their own), or fails
    /// at once with a clear message when another run holds it.
    public func acquireSendLock(job: String = "send") throws -> SendLock { try backend.acquireSendLock(job: job) }

    /// Starts the backend's background upkeep for a long write-heavy run (SQLite's WAL checkpoints); nil when the
    /// backend needs none.
    public func checkpointInBackground() throws -> BackgroundCheckpoints? {
        guard let sqlite = backend as? SQLiteStore else { return nil }
        return try BackgroundCheckpoints(store: sqlite)
    }
}

/// Where the store lives.
public enum StoreLocation: Sendable, CustomStringConvertible {
    case sqlite(URL)
    case postgres(PostgresLocation)

    /// The file's path or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let url): url.path
        case .postgres(let location): location.description
        }
    }
}

/// What a backend offers the store's methods.
protocol StoreBackend: Sendable {
    var dialect: SQLDialect { get }
    func appliedMigrations() throws -> [String]
    func read<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T
    func readStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T
    func writeStatement<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T
    func write<T: Sendable>(_ body: @Sendable (any SQLSession) throws -> T) throws -> T
    func acquireSendLock(job: String) throws -> SendLock
}
