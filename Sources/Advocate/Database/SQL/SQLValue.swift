import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One value as both backends store it: SQLite's storage classes, which PostgreSQL's columns map onto (integers
/// as BIGINT, text as TEXT or CITEXT, dates as text in one sortable format).
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value that goes into a statement and comes back out of a row.
public protocol SQLValueConvertible: Sendable {
    /// The value as stored.
    var sqlValue: SQLValue { get }
    /// The Swift value of a stored one, or nil when it does not convert.
    static func fromSQLValue(_ value: SQLValue) -> Self?
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self) }
    public static func fromSQLValue(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let int): int
        case .real(let double): Int64(exactly: double.rounded(.towardZero))
        case .text(let text): Int64(text)
        default: nil
        }
    }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func fromSQLValue(_ value: SQLValue) -> Int? { Int64.fromSQLValue(value).map { Int($0) } }
}

extension Double: SQLValueConvertible {
    public var sqlValue: SQLValue { .real(self) }
    public static func fromSQLValue(_ value: SQLValue) -> Double? {
        switch value {
        case .integer(let int): Double(int)
        case .real(let double): double
        case .text(let text): Double(text)
        default: nil
        }
    }
}

extension Bool: SQLValueConvertible {
    /// Stored as 0 or 1 in both backends.
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public static func fromSQLValue(_ value: SQLValue) -> Bool? {
        switch value {
        case .integer(let int): int != 0
        case .real(let double): double != 0
        default: nil
        }
    }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public static func fromSQLValue(_ value: SQLValue) -> String? {
        switch value {
        case .text(let text): text
        case .integer(let int): String(int)
        case .real(let double): String(double)
        case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        case .null: nil
        }
    }
}

extension SQLValue: SQLValueConvertible {
    public var sqlValue: SQLValue { self }
    public static func fromSQLValue(_ value: SQLValue) -> SQLValue? { value }
}

extension Date: SQLValueConvertible {
    /// "yyyy-MM-dd HH:mm:ss.SSS" in UTC: sortable as text, and the format the SQLite databases already hold.
    public var sqlValue: SQLValue { .text(SQLDateFormat.format(self)) }
    public static func fromSQLValue(_ value: SQLValue) -> Date? {
        switch value {
        case .text(let text): SQLDateFormat.parse(text)
        case .integer(let int): Date(timeIntervalSince1970: TimeInterval(int))
        case .real(let double): Date(timeIntervalSince1970: double)
        default: nil
        }
    }
}

/// The stored date format, written and read without Foundation's formatters (they are slow and not thread-safe).
enum SQLDateFormat {
    static func format(_ date: Date) -> String {
        var milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        milliseconds -= Int64(seconds) * 1000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes = [UInt8]()
        bytes.reserveCapacity(23)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(48 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        append(Int(parts.tm_year) + 1900, digits: 4)
        bytes.append(0x2D)
        append(Int(parts.tm_mon) + 1, digits: 2)
        bytes.append(0x2D)
        append(Int(parts.tm_mday), digits: 2)
        bytes.append(0x20)
        append(Int(parts.tm_hour), digits: 2)
        bytes.append(0x3A)
        append(Int(parts.tm_min), digits: 2)
        bytes.append(0x3A)
        append(Int(parts.tm_sec), digits: 2)
        bytes.append(0x2E)
        append(Int(milliseconds), digits: 3)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss" with optional fraction, with a space or a
    /// "T" between date and time and an optional trailing "Z", as UTC.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2) else {
            return nil
        }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x54 {
            index += 1
            guard let h = number(2), expect(0x3A), let m = number(2) else { return nil }
            (hour, minute) = (h, m)
            if expect(0x3A) {
                guard let s = number(2) else { return nil }
                second = s
                if expect(0x2E) {
                    var scale = 0.1
                    while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                        fraction += Double(bytes[index] - 48) * scale
                        scale /= 10
                        index += 1
                    }
                }
            }
        }
        _ = expect(0x5A)
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day) else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), so no calendar object is needed.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + fraction
        return Date(timeIntervalSince1970: seconds)
    }
}
