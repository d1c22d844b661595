import Foundation

/// How often an ambassador wants the digest.
public enum Frequency: String, Sendable, Codable, CaseIterable, Hashable {
    case weekly
    /// Every other week, counted from the week they chose it.
    case biweekly
}

/// A day in the calendar, `2026-12-20`, without a time or a time zone.
public struct CalendarDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Reads `YYYY-MM-DD`; `nil` for anything else, including days that do not exist.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1, day <= CalendarDay.days(inMonth: month, year: year)
        else { return nil }
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// The day `date` falls on in `timeZone`.
    public init(_ date: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        (year, month, day) = (parts.year!, parts.month!, parts.day!)
    }

    /// Midnight at the start of this day in `timeZone`.
    public func start(in timeZone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: year, month: month, day: day))!
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = CalendarDay(parsing: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a day like 2026-12-20"))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Which weekly digests an ambassador receives: every week or every other week, and none while they pause.
public struct DeliverySchedule: Sendable, Hashable, Codable {
    public var frequency: Frequency
    /// For every other week: the ``ISOWeek/ordinal`` of a week they receive (the week they chose it).
    public var anchorWeek: Int
    /// No digest of a week that starts on or before this day.
    public var pausedUntil: CalendarDay?

    /// Creates a schedule; the default is every week, no pause.
    public init(frequency: Frequency = .weekly, anchorWeek: Int = 0, pausedUntil: CalendarDay? = nil) {
        self.frequency = frequency
        self.anchorWeek = anchorWeek
        self.pausedUntil = pausedUntil
    }

    /// Why the digest of `week` is not sent, or `nil` when it is. Every other week counts from its anchor on: a
    /// week before it was due under the rhythm chosen earlier, so choosing it does not withdraw that week's open
    /// retry (a pause does).
    public func skipReason(for week: ISOWeek) -> String? {
        if let pausedUntil, week.monday <= pausedUntil { return "paused until \(pausedUntil)" }
        if frequency == .biweekly && week.ordinal > anchorWeek && (week.ordinal - anchorWeek) % 2 != 0 {
            return "every two weeks: not this week"
        }
        return nil
    }

    /// Whether the digest of `week` is sent.
    public func includes(_ week: ISOWeek) -> Bool { skipReason(for: week) == nil }
}

extension ISOWeek {
    /// A running count of weeks (consecutive weeks have consecutive numbers, across years).
    public var ordinal: Int {
        // Monday 00:00 UTC of every week is 4 days (mod 7) after 1 January 1970, a Thursday.
        (Int(start(in: TimeZone(identifier: "UTC")!).timeIntervalSince1970) - 4 * 86_400) / 604_800
    }

    /// The Monday the week starts on.
    public var monday: CalendarDay {
        CalendarDay(start(in: TimeZone(identifier: "UTC")!), in: TimeZone(identifier: "UTC")!)
    }
}
