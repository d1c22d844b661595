import Foundation

/// Held from the ledger's "handed over" note of a message until its outcome is kept (noted in the
/// ``OutcomeJournal`` on SQLite, committed on PostgreSQL): the connections send their bodies side by side, but only
/// one message at a time is between the end of its data and its kept reply, so a crash leaves at most one delivery of
/// a run in doubt.
///
/// How often a crash leaves one is the share of time a message is in doubt: from the note's commit until the reply
/// is kept.
/// Against a relay that does its work after the final dot (reads the rest of the body, writes its queue file, syncs
/// it) that is nearly all the time whenever the relay is the bottleneck. So the gate also paces, with a token
/// bucket: the time in doubt earns `share` seconds per second and spends one, which keeps it to at most `share` of
/// the time (``SMTPConfig/inDoubtShare``); after a message was in doubt for `d` in a busy run, the next end begins
/// `d × (1 − share) / share` later. The relay reads the other connections' bodies meanwhile, so
/// their ends are shorter, and the pace costs less throughput than the share suggests.
/// Sendable by hand: every mutable field is touched only under `condition`.
final class EndGate: @unchecked Sendable {
    private let condition = NSCondition()
    /// Whether a message is in its end; guarded by `condition`.
    private var busy = false
    /// The messages waiting for their end, by ticket, in the order they came: the gate is first come, first served,
    /// so no connection is passed over again and again until it runs into its deadline.
    private var line: [UInt64] = []
    private var nextTicket: UInt64 = 0
    /// Seconds a message may yet be in doubt: grows by `share` per second up to ``burst``, shrinks by the time a
    /// message was in doubt; an end may begin once it is not negative. Guarded by `condition`, as are the rest.
    private var credit = 0.0
    /// When `credit` was last brought up to date; `nil` until the first end, so that a run's start-up earns no
    /// burst (crashes early in a run would otherwise find a message in doubt more often).
    private var creditAt: Double?
    /// Time a message was in doubt, over how many messages, and from the first such moment to the last.
    private var inDoubt = 0.0
    private var inDoubtCount = 0
    private var span: (first: Double, last: Double)?
    private let rate: Double
    /// Credit saved while no end was waiting: a short burst, so that the pace does not hold back an end that
    /// comes after a pause. Over a run, the share in doubt stays within `share` plus this over the run's length.
    static let burst = 0.01
    /// One slow reply delays the next end by at most this much, so that it does not hold the others back. So the
    /// share holds for ends shorter than `longestWait × share / (1 − share)` (a second at 0.5); after slower ones
    /// (a relay that filters content before it answers the final dot) the next end waits a second.
    static let longestWait = 1.0

    /// Seconds of a monotonic clock, and how to wait; tests pass a clock of their own.
    private let now: @Sendable () -> Double
    private let sleep: @Sendable (Double) -> Void

    init(
        share: Double, now: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime },
        sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
    ) {
        rate = share
        self.now = now
        self.sleep = sleep
    }

    /// Waits until no other message is in its end and the pace allows one; false when that would be after
    /// `deadline` (system uptime).
    func enter(before deadline: Double) -> Bool {
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        line.append(ticket)
        while busy || line.first != ticket {
            let left = deadline - now()
            if left <= 0 || (!condition.wait(until: Date(timeIntervalSinceNow: left)) && (busy || line.first != ticket))
            {
                line.removeAll { $0 == ticket }
                condition.broadcast()  // the next in line may now be first
                condition.unlock()
                return false
            }
        }
        line.removeFirst()
        let time = now()
        settle(at: time)
        let wait = credit < 0 ? -credit / rate : 0
        guard time + wait <= deadline else {
            condition.broadcast()  // the gate is free: the next in line may have a later deadline
            condition.unlock()
            return false
        }
        busy = true
        condition.unlock()
        if wait > 0 { sleep(wait) }
        return true
    }

    /// The gate's clock (system uptime by default), for deadlines and the moment a message comes in doubt.
    var time: Double { now() }

    /// How many messages wait for their end (for tests).
    var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return line.count
    }

    /// The share of the time from the first end to the last that a message was in doubt: how likely a crash at a
    /// random moment was to leave one in doubt.
    var share: Double {
        condition.lock()
        defer { condition.unlock() }
        guard let span, span.last > span.first else { return 0 }
        return inDoubt / (span.last - span.first)
    }

    /// The mean time a message was in doubt, in seconds (0 before the first). With the pace, a run sends at most
    /// `share` divided by this many messages a second: the shorter the relay's reply and noting it, the
    /// faster a run can go at the same risk.
    var meanInDoubt: Double {
        condition.lock()
        defer { condition.unlock() }
        return inDoubtCount > 0 ? inDoubt / Double(inDoubtCount) : 0
    }

    /// Opens the gate for the next message, paced by how long this one was in doubt: from the ledger's note that its
    /// end may leave (`inDoubtSince`, system uptime; `nil` when the note was never written) until now.
    func leave(inDoubtSince start: Double?) {
        let time = now()
        condition.lock()
        settle(at: time, spent: start.map { time - $0 } ?? 0)
        if let start {
            inDoubt += time - start
            inDoubtCount += 1
            span = (span?.first ?? start, time)
        }
        busy = false
        condition.broadcast()
        condition.unlock()
    }

    /// Brings `credit` up to `time`: adds what the time since the last update earned, takes off `spent` seconds in
    /// doubt, and keeps the result between ``longestWait``'s debt and ``burst``. Earning and spending are added
    /// before the cap: capping first would lose what an end itself earned (and pace even a share of 1).
    private func settle(at time: Double, spent: Double = 0) {
        credit += (time - (creditAt ?? time)) * rate - spent
        credit = min(max(credit, -rate * Self.longestWait), Self.burst)
        creditAt = time
    }
}
