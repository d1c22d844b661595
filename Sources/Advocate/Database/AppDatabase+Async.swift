import Foundation

extension AppDatabase {
    /// The threads async callers (the server) borrow for store calls: SQLite blocks its thread, so store work never
    /// runs on Swift's cooperative pool, where it would stall the event loops' tasks. At most as many calls run at
    /// once as the pool has readers; the others wait in the queue without holding a thread.
    private static let queue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "advocate.store"
        queue.maxConcurrentOperationCount = 6
        return queue
    }()

    /// Runs store calls on the store's own threads and resumes the caller with the result.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (AppDatabase) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.queue.addOperation { continuation.resume(with: Result { try body(self) }) }
        }
    }
}
