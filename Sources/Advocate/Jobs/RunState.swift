import AdvocateCore
import Foundation

/// Counters shared by the producer and the sending threads.
struct RunState {
    var budget: Int
    var sent = 0
    var attempts = 0
    /// Messages held back before their end (another message's reply took too long): tried again, not attempts.
    var heldBack = 0
    /// Messages not sent because the relay could not be reached: tried again, not attempts.
    var unreachable = 0
    var stopReason: String?
    /// A reply noted in the ``OutcomeJournal`` could not be committed: the journal is kept for the next run.
    var journalUnrecorded = false
    /// Since when every message found the relay unreachable (nil once it answered again), and how many in a row.
    var unreachableSince: Date?
    var unreachableInARow = 0

    /// Notes a message that found the relay unreachable at `time` and returns how long it waits: `base` doubled
    /// for each one in a row, at most a minute, so that a relay that is down is not asked again and again.
    mutating func relayDown(at time: Date, base: Double) -> Double {
        if unreachableSince == nil { unreachableSince = time }
        unreachableInARow += 1
        return min(base * pow(2, Double(min(unreachableInARow - 1, 16))), 60)
    }

    /// Whether at `time`, `after` seconds more, every message will have found the relay unreachable for longer
    /// than the run's `patience`: then the run claims and sends nothing more.
    func relayGone(at time: Date, patience: Double, after wait: Double = 0) -> Bool {
        guard let since = unreachableSince else { return false }
        return time.timeIntervalSince(since) + wait > patience
    }

    /// Whether a queued job is dropped at its turn at `time`: the relay has been gone for longer than `patience`.
    /// A dropped job gives its share of the budget back, as a message that was not tried does. Asked once per job.
    mutating func drops(at time: Date, patience: Double) -> Bool {
        guard relayGone(at: time, patience: patience) else { return false }
        giveBack()
        return true
    }

    /// A share of the budget back (invitation runs have no limit).
    private mutating func giveBack() { if budget < .max { budget += 1 } }

    /// How long a sending thread pauses at `time` after a message found the relay unreachable and was given
    /// `delay` before its retry: as long, so that the next messages do not ask a relay that is down again at
    /// once, but no longer than the run's `patience` has left (then the run stops anyway).
    func pause(_ delay: Double, at time: Date, patience: Double) -> Double {
        guard let since = unreachableSince else { return 0 }
        return max(0, min(delay, patience - time.timeIntervalSince(since)))
    }

    /// Counts an attempt, or a message held back (claimed again), not sent because the relay could not be reached,
    /// or withdrawn (no longer due), which are not attempts and give their share of `--limit` back; an unusable
    /// transport stops the run.
    mutating func note(_ outcome: SendOutcome, reach: SendJob.Reach) {
        let tried = reach.isAttempt(outcome)
        switch reach {
        case .beforeEnd, .handedOver: if tried { attempts += 1 } else { unreachable += 1 }
        case .heldBack: heldBack += 1
        case .withdrawn: break
        }
        // The relay answered: a later unreachable spell starts its own wait.
        if tried {
            unreachableSince = nil
            unreachableInARow = 0
        }
        if !tried { giveBack() }
        if case .sent = outcome { sent += 1 }
        if case .unusable(let reason) = outcome, stopReason == nil { stopReason = reason }
    }

    /// Takes one delivery from the budget; false when it is used up or the run is stopping.
    mutating func take() -> Bool {
        guard budget > 0, stopReason == nil else { return false }
        budget -= 1
        return true
    }
}
