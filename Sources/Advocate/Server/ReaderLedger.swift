import AdvocateCore
import Crypto
import Foundation
import Synchronization

/// Unique readers the way privacy-first analytics count them: a keyed hash of (the day's secret, address, user
/// agent, link) tells whether this reader was seen today, in memory only. The secret is random, made when the day
/// starts and dropped when it ends, so yesterday's hashes cannot be linked to anything; nothing of it, and no
/// address or agent, is ever written to disk. Only the answer is stored with the click (`newReader`,
/// `newItemReader`). A restart mid-day starts a new secret (a reader seen before and after it counts twice).
public final class ReaderLedger: Sendable {
    private struct Day {
        var name: String
        var secret: [UInt8]
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
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: time)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        var reader = Data(address ?? [])
        reader.append(0)
        reader.append(contentsOf: Array((userAgent ?? "").utf8))
        reader.append(0)
        // The day's secret, made when the day starts; a late request of the previous day never turns it back.
        let secret = state.withLock { current -> [UInt8]? in
            if current == nil || current!.name < day {
                current = Day(name: day, secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
            }
            return current!.name == day ? current!.secret : nil
        }
        guard let secret else { return (false, false) }
        let key = SymmetricKey(data: secret)
        func hash(_ scope: String) -> UInt64 {
            var message = reader
            message.append(contentsOf: Array(scope.utf8))
            let code = HMAC<SHA256>.authenticationCode(for: message, using: key)
            return code.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }
        let shareHash = hash("share:\(shareKey)")
        let itemHash = hash("item:\(itemID)")
        return state.withLock { current in
            guard var today = current, today.name == day else { return (false, false) }
            // A flood of made-up readers stops counting new ones instead of growing without bound.
            guard today.shares.count < Self.maxPerDay else { return (false, false) }
            current = nil
            let share = today.shares.insert(shareHash).inserted
            let item = today.items.insert(itemHash).inserted
            current = today
            return (share, item)
        }
    }

    /// Readers remembered per day at most.
    static let maxPerDay = 2_000_000

    /// The day the ledger keeps readers for (for tests).
    var currentDay: String? { state.withLock { $0?.name } }
}
