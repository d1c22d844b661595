import Foundation
import GRDB

/// Moves the WAL into the database file from a connection of its own, so that the click writer never waits for a
/// checkpoint's fsyncs. Left to SQLite, every 1,000th page committed makes the committing connection copy the log
/// and sync twice: under load that stalled every click of the batch by tens of milliseconds. While this runs, the
/// writer's own automatic checkpoint only starts at ``fallbackPages`` (a bound on the log should this thread fall
/// behind), and this thread runs a passive checkpoint, which never blocks a writer, every ``interval``.
/// Sendable by hand: `stopping` and `stopped` are touched only under `condition`; the connection is its thread's alone.
public final class BackgroundCheckpoints: @unchecked Sendable {
    static let interval: TimeInterval = 0.25
    static let fallbackPages = 20_000
    private let condition = NSCondition()
    private var stopping = false
    private var stopped = false
    private let store: SQLiteStore

    init(store: SQLiteStore) throws {
        self.store = store
        let connection = try DatabaseQueue(path: store.fileURL.path, configuration: SQLiteStore.makeConfiguration())
        try store.writer.writeWithoutTransaction {
            try $0.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.fallbackPages)")
        }
        Thread.named("wal-checkpoint") { [self] in run(connection) }.start()
    }

    private func run(_ connection: DatabaseQueue) {
        condition.lock()
        while !stopping {
            condition.unlock()
            // Busy (another checkpoint or a closing connection) or failing: the next round tries again, and the
            // writer's fallback bounds the log meanwhile.
            try? connection.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            condition.lock()
            if !stopping { _ = condition.wait(until: Date().addingTimeInterval(Self.interval)) }
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
        try? connection.close()
    }

    /// Stops the thread and gives the writer its automatic checkpoints back.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
        try? store.writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 1000") }
    }
}
