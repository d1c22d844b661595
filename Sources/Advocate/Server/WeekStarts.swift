import AdvocateCore
import Foundation
import Synchronization

/// When each ISO week starts in the programme's time zone, remembered: a calendar computation per click (to judge a
/// link's age) cost more than the rest of the age check.
final class WeekStarts: Sendable {
    private let timeZone: TimeZone
    private let starts = Mutex<[ISOWeek: Date]>([:])

    init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// The first moment of `week`.
    func start(of week: ISOWeek) -> Date {
        if let start = starts.withLock({ $0[week] }) { return start }
        let start = week.start(in: timeZone)
        starts.withLock {
            if $0.count > 1_000 { $0.removeAll() }
            $0[week] = start
        }
        return start
    }
}
