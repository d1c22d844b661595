import AdvocateCore
import Foundation
import Synchronization

/// Unique readers the way privacy-first analytics count them: a keyed hash of (the day's secret, address, user
/// agent, link) tells whether this reader was seen today, in memory only. The secret is random, made when the day
/// starts and dropped when it ends, so yesterday's hashes cannot be linked to anything; nothing of it, and no
/// address or agent, is ever written to disk. Only the answer is stored with the click (`newReader`,
/// `newItemReader`). A restart mid-day starts a new secret (a reader seen before and after it counts twice).
///
/// This runs for every person's visit, the bulk of the server's traffic, while the click writer's queue is held (see
/// ``ClickRecorder/record(_:)``): the day's bounds and secret are made once a day, and the reader's part of the hash
/// is computed once for both scopes.
public final class ReaderLedger: Sendable {
    /// A day's secret: 256 random bits.
    private typealias Secret = (UInt64, UInt64, UInt64, UInt64)

    private struct Day {
        /// The day's first moment, and the next day's, in the ledger's time zone.
        var start: Date
        var end: Date
        var secret: Secret
        var shares: Set<UInt64> = []
        var items: Set<UInt64> = []
    }

    private let state = Mutex<Day?>(nil)
    /// The Gregorian calendar in the ledger's time zone: its days.
    private let calendar: Calendar

    /// Creates a ledger whose days are those of `timeZone`.
    public init(timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// Notes a person's visit and says whether they are new today to this share and to this item.
    public func note(address: [UInt8]?, userAgent: String?, shareKey: Int64, itemID: Int64, at time: Date) -> (
        share: Bool, item: Bool
    ) {
        guard let secret = secret(at: time) else { return (false, false) }
        let (shareHash, itemHash) = Self.hashes(secret, address, userAgent, shareKey, itemID)
        return state.withLock { current in
            guard var today = current, today.start <= time, time < today.end else { return (false, false) }
            // A flood of made-up readers stops counting new ones instead of growing without bound.
            guard today.shares.count < Self.maxPerDay else { return (false, false) }
            current = nil
            let share = today.shares.insert(shareHash).inserted
            let item = today.items.insert(itemHash).inserted
            current = today
            return (share, item)
        }
    }

    /// Takes back what ``note(address:userAgent:shareKey:itemID:at:)`` answered `true` for, when the visit's click
    /// was not stored after all: the reader's next visit that day is then their first again.
    public func forget(
        address: [UInt8]?, userAgent: String?, shareKey: Int64, itemID: Int64, at time: Date, share: Bool, item: Bool
    ) {
        guard share || item else { return }
        state.withLock { current in
            guard var today = current, today.start <= time, time < today.end else { return }
            let (shareHash, itemHash) = Self.hashes(today.secret, address, userAgent, shareKey, itemID)
            current = nil
            if share { today.shares.remove(shareHash) }
            if item { today.items.remove(itemHash) }
            current = today
        }
    }

    /// The reader's hashes for the share and for the item: SipHash (Swift's `Hasher`, seeded per process) keyed with
    /// the day's secret, as Plausible's daily salt. A cryptographic MAC is not needed for values that never leave
    /// memory, and this runs on every visit while the click writer's queue is held. The address is hashed with its
    /// length and the agent with a terminator, so no pair of them passes for another.
    private static func hashes(
        _ secret: Secret, _ address: [UInt8]?, _ userAgent: String?, _ shareKey: Int64, _ itemID: Int64
    ) -> (share: UInt64, item: UInt64) {
        var reader = Hasher()
        reader.combine(secret.0)
        reader.combine(secret.1)
        reader.combine(secret.2)
        reader.combine(secret.3)
        reader.combine(address ?? [])
        reader.combine(userAgent ?? "")
        var share = reader
        share.combine(UInt8(ascii: "s"))
        share.combine(shareKey)
        var item = reader
        item.combine(UInt8(ascii: "i"))
        item.combine(itemID)
        return (UInt64(bitPattern: Int64(share.finalize())), UInt64(bitPattern: Int64(item.finalize())))
    }

    /// The secret of the day that holds `time`, made when that day starts; nil for a late request of a day that has
    /// ended (it never turns the ledger back).
    private func secret(at time: Date) -> Secret? {
        state.withLock { current in
            if let today = current, time < today.end { return today.start <= time ? today.secret : nil }
            guard let bounds = calendar.dateInterval(of: .day, for: time) else { return nil }
            var random = SystemRandomNumberGenerator()
            let secret = (random.next(), random.next(), random.next(), random.next()) as Secret
            current = Day(start: bounds.start, end: bounds.end, secret: secret)
            return secret
        }
    }

    /// Readers remembered per day at most.
    static let maxPerDay = 2_000_000

    /// The day the ledger keeps readers for, as `2026-12-03` (for tests).
    var currentDay: String? {
        guard let start = state.withLock({ $0?.start }) else { return nil }
        let parts = calendar.dateComponents([.year, .month, .day], from: start)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
