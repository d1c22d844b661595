/// Held while a send run sends; released when dropped or when the process dies (even by kill -9). On SQLite it is
/// an exclusive advisory lock on a file next to the database: one run at a time. On PostgreSQL digest runs of
/// several machines share the work, each holding a session advisory lock on its own ``sender`` key, by which the
/// others tell that it is alive; invitation runs stay one at a time.
public final class SendLock: Sendable {
    /// This run's key, stored with the deliveries it claims.
    public let sender: Int64
    private let release: @Sendable () -> Void
    private let check: @Sendable () -> Bool

    init(
        sender: Int64 = newSender(), isHeld check: @escaping @Sendable () -> Bool = { true },
        release: @escaping @Sendable () -> Void
    ) {
        self.sender = sender
        self.check = check
        self.release = release
    }

    /// A fresh sender key: positive, so that PostgreSQL's pg_locks gives it back unchanged.
    static func newSender() -> Int64 { .random(in: 1...(1 << 62)) }

    /// Whether the lock is still held: a PostgreSQL lock ends with its connection, and the other runs then take
    /// this run for dead.
    public func isHeld() -> Bool { check() }

    deinit { release() }

    /// The message when another run holds the lock of `job`.
    static func heldMessage(job: String, holder: String) -> String {
        "another `advocate \(job == "send" ? "digest send" : job)` (\(holder)) is sending from this database; "
            + "wait for it to finish"
    }
}
