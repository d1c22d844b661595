import Foundation

/// Shows a progress bar with count, rate and ETA on a terminal; prints nothing otherwise (cron gets the summary line).
/// Sendable by hand: every mutable field is touched only under `lock`.
public final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private var total = 0
    private var done = 0
    private var start = Date()
    private var lastDraw = Date.distantPast

    /// A reporter that draws on standard error when it is a terminal.
    public init(enabled: Bool = isatty(STDERR_FILENO) != 0) {
        self.enabled = enabled
    }

    func begin(total: Int) {
        lock.withLock {
            self.total = total
            done = 0
            start = Date()
        }
    }

    func advance() {
        lock.withLock {
            done += 1
            let now = Date()
            guard enabled, now.timeIntervalSince(lastDraw) > 0.2 || done == total else { return }
            lastDraw = now
            let elapsed = max(now.timeIntervalSince(start), 0.001)
            let rate = Double(done) / elapsed
            let remaining = rate > 0 ? Double(max(total - done, 0)) / rate : 0
            let width = 30
            let filled = total > 0 ? min(width, done * width / total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = String(
                format: "\r[%@] %d/%d  %.0f/s  ETA %02d:%02d ", bar, done, total, rate, Int(remaining) / 60,
                Int(remaining) % 60)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func end() {
        lock.withLock { if enabled && total > 0 { FileHandle.standardError.write(Data("\n".utf8)) } }
    }
}
