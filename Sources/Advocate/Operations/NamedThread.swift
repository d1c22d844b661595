import Foundation

extension Thread {
    /// A thread of Advocate's own (the click writer, the checkpoints, an SMTP connection) that names itself as it
    /// starts, so that `top -H`, `perf` and a debugger tell it apart from Swift's pools. Foundation on Linux does
    /// not pass a name set before `start()` to the system, and Linux refuses a name over 15 bytes.
    static func named(_ name: String, body: @escaping @Sendable () -> Void) -> Thread {
        precondition(name.utf8.count <= 15, "thread names hold at most 15 bytes: \(name)")
        return Thread {
            // Set from the thread itself, Foundation passes it on to the system.
            Thread.current.name = name
            body()
        }
    }
}
