import AdvocateCore
import Foundation

/// What a digest run did and where the digest stands, for the summary line, `--json` and the exit code.
public struct SendSummary: Sendable, Codable {
    /// The digest week.
    public var week: String
    /// Messages accepted by the relay in this run.
    public var sentThisRun = 0
    /// Attempts made in this run (sent or not).
    public var attemptsThisRun = 0
    /// Messages held back before their end because another message's reply took too long (``SendPool``): queued
    /// again without using up an attempt. More than a few mean the relay stalls.
    public var heldBackThisRun = 0
    /// Messages not sent because the relay could not be reached (refused or timed out connecting, or answered 421):
    /// queued again without using up an attempt. A run ends once the relay has been unreachable for longer than
    /// `mail.smtp.retryWithinRunSeconds`; the deliveries then wait (`retry`) for the next run.
    public var unreachableThisRun = 0
    /// Deliveries found in `sending` from a run that died after handing over their end, now in doubt.
    public var abandonedInDoubt = 0
    /// Deliveries a run that died had handed over and had the relay's reply to, noted in its ``OutcomeJournal`` but
    /// not yet committed: recorded with that reply now (sent, to retry or failed), not in doubt. They may belong to
    /// another week's digest than this run's.
    public var recordedAfterStop = 0
    /// Deliveries a run that died had taken but whose end it had not handed over (certainly not delivered): given
    /// back to the queue.
    public var requeuedAfterStop = 0
    /// Ledger totals per status for the whole digest after the run.
    public var totals: [String: Int] = [:]
    /// Seconds the run took.
    public var seconds = 0.0
    /// The share of the sending time a message was in doubt (from the ledger's note that its end may leave until
    /// its reply was kept): how likely a crash at a random moment was to leave one so (``EndGate``, kept under
    /// `mail.smtp.inDoubtShare`).
    public var inDoubtShare = 0.0
    /// The mean time a message was in doubt, in seconds: mostly the relay's reply to the final dot, then keeping
    /// it (noted in the ``OutcomeJournal`` on SQLite; the outcome's commit on PostgreSQL). The pace keeps a run to
    /// at most `inDoubtShare` divided by this many messages a second.
    public var inDoubtSecondsPerMessage = 0.0

    /// Exit code: everything sent (or nothing to send) → 0; anything failed, in doubt or still waiting → 3.
    public var exitCode: Int32 {
        let open = ["failed", "inDoubt", "retry", "pending", "sending"].reduce(0) { $0 + (totals[$1] ?? 0) }
        return open == 0 ? 0 : SendSummary.partialExitCode
    }

    /// Exit code for a run that finished with deliveries failed, in doubt or awaiting retry.
    public static let partialExitCode: Int32 = 3
    /// Exit code when another run holds the send lock.
    public static let lockedExitCode: Int32 = 75

    /// One line for cron logs.
    public var line: String {
        let rate = seconds > 0 ? Double(attemptsThisRun) / seconds : 0
        let parts = DeliveryStatus.allCases.compactMap { status in
            totals[status.rawValue].map { "\($0) \(status.rawValue)" }
        }
        return "digest \(week): \(sentThisRun) sent in this run (\(attemptsThisRun) attempts, "
            + (heldBackThisRun > 0 ? "\(heldBackThisRun) held back, " : "")
            + (unreachableThisRun > 0 ? "\(unreachableThisRun) not sent: relay unreachable, " : "")
            + String(format: "%.1f s, %.0f/s", seconds, rate)
            + (inDoubtShare > 0
                ? String(
                    format: ", in doubt %.0f %% of the time, %.2f ms per message", inDoubtShare * 100,
                    inDoubtSecondsPerMessage * 1000) : "")
            + "); ledger: "
            + (parts.isEmpty ? "empty" : parts.joined(separator: ", "))
    }
}
