import Foundation

/// An ISO-8601 week such as `2026-W49`: weeks start on Monday and week 1 holds the year's first Thursday.
public struct ISOWeek: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The ISO week-numbering year, which can differ from the calendar year around New Year.
    public let year: Int
    /// The week number, 1 through 52 or 53.
    public let week: Int

    /// Why a week could not be read.
    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case malformed(String)
        case noSuchWeek(String, weeksInYear: Int)

        public var description: String {
            switch self {
            case .malformed(let text):
                "'\(text)' is not an ISO week; write it as YYYY-Www, e.g. 2026-W49"
            case .noSuchWeek(let text, let count):
                "'\(text)' does not exist: that year has \(count) ISO weeks"
            }
        }
    }

    /// Creates a week, checking that the year has it.
    public init(year: Int, week: Int) throws(ParseError) {
        let count = ISOWeek.weeksIn(year: year)
        guard (1...count).contains(week) else {
            throw .noSuchWeek(String(format: "%04d-W%02d", year, week), weeksInYear: count)
        }
        self.year = year
        self.week = week
    }

    /// Parses `2026-W49` (also `2026W49` and a lower-case `w`).
    public init(parsing text: String) throws(ParseError) {
        // The form `description` writes, over its bytes: the click inbox reads one per click it moves.
        if let (year, week) = Self.canonical(text) {
            try self.init(year: year, week: week)
            return
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let parts = trimmed.split(separator: "W", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .malformed(text) }
        let yearPart = parts[0].hasSuffix("-") ? parts[0].dropLast() : parts[0]
        guard yearPart.count == 4, parts[1].count == 2, let year = Int(yearPart), let week = Int(parts[1]),
            parts[1].allSatisfy(\.isASCII), yearPart.allSatisfy(\.isASCII)
        else { throw .malformed(text) }
        try self.init(year: year, week: week)
    }

    /// The year and week of `YYYY-Www` (ASCII digits, an upper-case `W`), or nil for any other form.
    private static func canonical(_ text: String) -> (year: Int, week: Int)? {
        text.utf8.withContiguousStorageIfAvailable { bytes -> (year: Int, week: Int)? in
            guard bytes.count == 8, bytes[4] == UInt8(ascii: "-"), bytes[5] == UInt8(ascii: "W") else { return nil }
            var number = 0
            for index in 0..<8 where index != 4 && index != 5 {
                let digit = Int(bytes[index]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit) else { return nil }
                number = number * 10 + digit
            }
            return (number / 100, number % 100)
        } ?? nil
    }

    /// The week that holds `date` in `timeZone`.
    public init(containing date: Date, in timeZone: TimeZone) {
        let calendar = ISOWeek.calendar(timeZone)
        let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        year = parts.yearForWeekOfYear!
        week = parts.weekOfYear!
    }

    /// 53 when the year starts on a Thursday, or is a leap year starting on a Wednesday; otherwise 52.
    public static func weeksIn(year: Int) -> Int {
        func p(_ y: Int) -> Int { (y + y / 4 - y / 100 + y / 400) % 7 }
        return p(year) == 4 || p(year - 1) == 3 ? 53 : 52
    }

    /// Monday 00:00 of this week in `timeZone`.
    public func start(in timeZone: TimeZone) -> Date {
        let calendar = ISOWeek.calendar(timeZone)
        // 4 January is always in week 1.
        let january4 = calendar.date(from: DateComponents(year: year, month: 1, day: 4))!
        let weekday = (calendar.component(.weekday, from: january4) + 5) % 7  // Monday = 0
        let monday1 = calendar.date(byAdding: .day, value: -weekday, to: january4)!
        return calendar.date(byAdding: .day, value: (week - 1) * 7, to: monday1)!
    }

    /// The week after this one.
    public var next: ISOWeek {
        week < ISOWeek.weeksIn(year: year)
            ? try! ISOWeek(year: year, week: week + 1) : try! ISOWeek(year: year + 1, week: 1)
    }

    /// The week before this one.
    public var previous: ISOWeek {
        week > 1
            ? try! ISOWeek(year: year, week: week - 1)
            : try! ISOWeek(year: year - 1, week: ISOWeek.weeksIn(year: year - 1))
    }

    public var description: String {
        // Built by hand: `String(format:)` goes through Foundation's formatter, and this runs on every click.
        let digits = String(year)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + (week < 10 ? "-W0" : "-W")
            + String(week)
    }

    public static func < (lhs: ISOWeek, rhs: ISOWeek) -> Bool { (lhs.year, lhs.week) < (rhs.year, rhs.week) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try ISOWeek(parsing: text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        return calendar
    }
}
