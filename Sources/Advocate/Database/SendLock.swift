/// Held while a send run sends; released when dropped or when the process dies (even by kill -9): an advisory
/// lock on a file next to a SQLite database, a session advisory lock on PostgreSQL.
public final class SendLock: Sendable {
    private let release: @Sendable () -> Void

    init(release: @escaping @Sendable () -> Void) { self.release = release }

    deinit { release() }

    /// The message when another run holds the lock of `job`.
    static func heldMessage(job: String, holder: String) -> String {
        "another `advocate \(job == "send" ? "digest send" : job)` (\(holder)) is sending from this database; "
            + "wait for it to finish"
    }
}
