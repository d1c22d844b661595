import AdvocateCore
import Foundation

/// Writes clicks with group commit: every click waiting when the writer comes round goes into one transaction, and
/// each caller is resumed only after that transaction committed. A redirect is therefore never sent for a click
/// that is not stored, yet thousands of concurrent clicks cost a handful of transactions.
/// Sendable by hand: `pending`, `stopping` and `stopped` are touched only under `condition`; the rest is immutable.
public final class ClickRecorder: @unchecked Sendable {
    private let database: AppDatabase
    private let condition = NSCondition()
    private var pending: [(ClickRecord, CheckedContinuation<Void, any Error>)] = []
    private var stopping = false
    private var stopped = false
    private let maxBatch: Int
    /// The log is checkpointed beside the writer, never by it; `nil` if that could not start (SQLite then
    /// checkpoints as usual).
    private let checkpoints: BackgroundCheckpoints?

    /// Creates a recorder and starts its writer thread (SQLite writes block, so they stay off the cooperative pool).
    public init(database: AppDatabase, maxBatch: Int = 2_048) {
        self.database = database
        self.maxBatch = maxBatch
        checkpoints = try? database.checkpointInBackground()
        let thread = Thread { [self] in writerLoop() }
        thread.name = "advocate-click-writer"
        thread.start()
    }

    /// Stores a click; returns once it is committed.
    public func record(_ click: ClickRecord) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: StoreError.failed("the click recorder has stopped"))
                return
            }
            pending.append((click, continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// Writes what is pending and stops the writer; later clicks fail.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
        checkpoints?.stop()
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            let waiting = pending.count
            condition.unlock()
            AdvocateMetrics.clickBatch(size: batch.count, waiting: waiting)
            do {
                let stored = try database.insertClicks(batch.map(\.0))
                for ((click, continuation), new) in zip(batch, stored) {
                    // A request retried by the proxy after another server stored it is not counted twice.
                    if new {
                        AdvocateMetrics.click(
                            kind: click.storedKind, classification: click.verdict.classification.rawValue)
                    }
                    continuation.resume()
                }
            } catch {
                for (_, continuation) in batch { continuation.resume(throwing: error) }
            }
        }
    }
}
