import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Held while a digest run sends; released when dropped or when the process dies (even by kill -9), because it
/// is an advisory lock on a file next to the database.
public final class SendLock: Sendable {
    private let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    deinit {
        flock(descriptor, LOCK_UN)
        Glibc.close(descriptor)
    }
}

extension AppDatabase {
    /// Takes the send lock of this database (`job` names it: digests and invitations have their own), or fails at
    /// once with a clear message when another run holds it. A PostgreSQL store would use an advisory lock instead.
    public func acquireSendLock(job: String = "send") throws -> SendLock {
        let path = fileURL.path + ".\(job)-lock"
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError.unavailable(path: path, reason: "cannot create the send lock") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &buffer, 31, 0)
            let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : "?"
            Glibc.close(descriptor)
            throw StoreError.sendLocked(
                "another `advocate \(job == "send" ? "digest send" : job)` "
                    + "(pid \(holder.trimmingCharacters(in: .whitespacesAndNewlines))) is "
                    + "sending from this database; wait for it to finish")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        return SendLock(descriptor: descriptor)
    }
}
