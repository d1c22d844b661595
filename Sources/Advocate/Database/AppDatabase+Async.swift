import Dispatch

extension AppDatabase {
    /// The threads async callers (the server) borrow for store calls: SQLite blocks its thread, so store work never
    /// runs on Swift's cooperative pool, where it would stall the event loops' tasks.
    private static let queue = DispatchQueue(label: "advocate.store", attributes: .concurrent)

    /// Runs store calls on the store's own threads and resumes the caller with the result.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (AppDatabase) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.queue.async { continuation.resume(with: Result { try body(self) }) }
        }
    }
}
