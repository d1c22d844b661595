import Foundation

extension Thread {
    /// A thread of Advocate's own (the click writer, the checkpoints, an SMTP connection) that names itself as it
    /// starts, so that `top -H`, `perf` and a debugger tell it apart from Swift's pools. Foundation on Linux passes a
    /// name on to the system only when it wins a race with `start()`, so the thread writes its own name where Linux
    /// keeps it (`/proc/thread-self/comm`, at most 15 bytes).
    static func named(_ name: String, body: @escaping @Sendable () -> Void) -> Thread {
        precondition(name.utf8.count <= 15, "thread names hold at most 15 bytes: \(name)")
        return Thread {
            Thread.current.name = name
            if let comm = FileHandle(forWritingAtPath: "/proc/thread-self/comm") {
                try? comm.write(contentsOf: Data(name.utf8))
                try? comm.close()
            }
            body()
        }
    }
}
