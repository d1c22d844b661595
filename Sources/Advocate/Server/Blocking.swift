import Foundation

/// Runs blocking work (libcurl, libxml2, bcrypt, an SMTP session) on a GCD thread and resumes the caller with its
/// result, so that it never holds one of Swift's cooperative threads, which run the event loops' tasks. Store calls
/// have their own queue instead (``AppDatabase/perform(_:)``).
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
