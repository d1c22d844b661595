import Foundation

/// The period of a plan goal: a year (`2026`), a quarter (`2026-Q4`) or a month (`2026-12`). Its start and end are
/// midnights in the programme's time zone, the same zone every other figure uses.
public struct GoalPeriod: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    /// 1 for January.
    public let firstMonth: Int
    /// 12, 3 or 1.
    public let months: Int

    /// Reads `2026`, `2026-Q4` or `2026-12`; `nil` for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let yearPart = parts.first, yearPart.count == 4, yearPart.allSatisfy(\.isASCII),
            let year = Int(yearPart), (2000...2999).contains(year)
        else { return nil }
        self.year = year
        switch parts.count {
        case 1:
            (firstMonth, months) = (1, 12)
        case 2 where parts[1].count == 2 && parts[1].hasPrefix("Q"):
            guard let quarter = Int(parts[1].dropFirst()), (1...4).contains(quarter) else { return nil }
            (firstMonth, months) = ((quarter - 1) * 3 + 1, 3)
        case 2 where parts[1].count == 2 && parts[1].allSatisfy(\.isNumber):
            guard let month = Int(parts[1]), (1...12).contains(month) else { return nil }
            (firstMonth, months) = (month, 1)
        default:
            return nil
        }
    }

    /// From the first moment of the period up to (not including) the first moment after it, in `timeZone`.
    public func range(in timeZone: TimeZone) -> Range<Date> {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.date(from: DateComponents(year: year, month: firstMonth, day: 1))!
        let end = calendar.date(byAdding: .month, value: months, to: start)!
        return start..<end
    }

    public var description: String {
        switch months {
        case 12: String(format: "%04d", year)
        case 3: String(format: "%04d-Q%d", year, (firstMonth - 1) / 3 + 1)
        default: String(format: "%04d-%02d", year, firstMonth)
        }
    }
}
