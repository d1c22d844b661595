import AdvocateCore
import Crypto
import Foundation
import Synchronization

/// Unique readers the way privacy-first analytics count them: a keyed hash of (the day's secret, address, user
/// agent, link) tells whether this reader was seen today, in memory only. The secret is random, made when the day
/// starts and dropped when it ends, so yesterday's hashes cannot be linked to anything; nothing of it, and no
/// address or agent, is ever written to disk. Only the answer is stored with the click (`newReader`,
/// `newItemReader`). A restart mid-day starts a new secret (a reader seen before and after it counts twice).
///
/// This runs for every person's visit, the bulk of the server's traffic, while the click writer's queue is held (see
/// ``ClickRecorder/record(_:)``): the day's bounds and key are made once a day, and the reader's part of the hash is
/// computed once for both scopes.
public final class ReaderLedger: Sendable {
    private struct Day {
        var name: String
        /// The day's first moment, and the next day's, in the ledger's time zone.
        var start: Date
        var end: Date
        var key: SymmetricKey
        var shares: Set<UInt64> = []
        var items: Set<UInt64> = []
    }

    private let state = Mutex<Day?>(nil)
    private let timeZone: TimeZone

    /// Creates a ledger whose days are those of `timeZone`.
    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// Notes a person's visit and says whether they are new today to this share and to this item.
    public func note(address: [UInt8]?, userAgent: String?, shareKey: Int64, itemID: Int64, at time: Date) -> (
        share: Bool, item: Bool
    ) {
        guard let key = key(at: time) else { return (false, false) }
        // The reader: address (with its length, so that no address and agent run into another pair) and agent.
        let address = address ?? []
        var bytes: [UInt8] = [UInt8(truncatingIfNeeded: address.count)]
        bytes.reserveCapacity(address.count + (userAgent?.utf8.count ?? 0) + 2)
        bytes += address
        bytes += (userAgent ?? "").utf8
        bytes.append(0)
        var reader = HMAC<SHA256>(key: key)
        reader.update(data: bytes)
        func hash(_ scope: UInt8, _ id: Int64) -> UInt64 {
            var code = reader
            withUnsafeBytes(of: id.littleEndian) { code.update(data: [scope] + $0) }
            return code.finalize().withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }
        let shareHash = hash(UInt8(ascii: "s"), shareKey)
        let itemHash = hash(UInt8(ascii: "i"), itemID)
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

    /// The secret of the day that holds `time`, made when that day starts; nil for a late request of a day that has
    /// ended (it never turns the ledger back).
    private func key(at time: Date) -> SymmetricKey? {
        state.withLock { current in
            if let today = current, time < today.end { return today.start <= time ? today.key : nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            guard let bounds = calendar.dateInterval(of: .day, for: time) else { return nil }
            let parts = calendar.dateComponents([.year, .month, .day], from: time)
            let name = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
            current = Day(name: name, start: bounds.start, end: bounds.end, key: SymmetricKey(size: .bits256))
            return current?.key
        }
    }

    /// Readers remembered per day at most.
    static let maxPerDay = 2_000_000

    /// The day the ledger keeps readers for (for tests).
    var currentDay: String? { state.withLock { $0?.name } }
}
