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
            perform(body) { continuation.resume(with: $0) }
        }
    }

    /// As ``perform(_:)``, for a caller without a task (the event loops' ``LinkFastPath``): `completion` gets the
    /// result on the store's thread.
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (AppDatabase) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        Self.queue.addOperation { completion(Result { try body(self) }) }
    }
}
