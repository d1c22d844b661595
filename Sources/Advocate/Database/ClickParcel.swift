import AdvocateCore
import Foundation

/// The clicks of one group commit as one text (SQLite's click inbox keeps a row of it per commit; see
/// AppDatabase+ClickInbox): a line per click, fields separated by tabs, in the order of ``fields``. Writing one
/// row per commit instead of one per click takes about a third off the click writer's work per click; the text is
/// read back only when the clicks are moved into `click`.
///
/// Moments are seconds since `Date`'s reference date as the shortest text that reads back as the same `Double`, so
/// a click reads back exactly as it was taken and its reclassifications use the same windows. A field that is
/// absent is `\N`; text fields escape backslash, tab, line feed and carriage return as `\\`, `\t`, `\n`, `\r`
/// (PostgreSQL's COPY text format).
enum ClickParcel {
    /// The fields of a line, in order.
    static let fields = [
        "at", "kind", "week", "itemId", "network", "ambassadorId", "class", "reason", "confirms", "newReader",
        "newItemReader", "requestId", "taints", "checkBefore",
    ]

    /// The parcel of `clicks`: one line each, every line ended by a line feed. Written over bytes: this runs on the
    /// click writer's thread for every click.
    static func encode(_ clicks: [ClickRecord]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(clicks.count * 112)
        let tab = UInt8(ascii: "\t")
        for click in clicks {
            append(moment(click.at), to: &text)
            text.append(tab)
            append(click.storedKind, to: &text)
            text.append(tab)
            append(click.week.description, to: &text)
            text.append(tab)
            append(click.itemID.map { String($0) } ?? absent, to: &text)
            text.append(tab)
            append(click.network?.rawValue ?? absent, to: &text)
            text.append(tab)
            append(click.ambassadorID.map { String($0) } ?? absent, to: &text)
            text.append(tab)
            append(click.verdict.classification.rawValue, to: &text)
            text.append(tab)
            appendEscaped(click.verdict.reason, to: &text)
            text.append(tab)
            if let confirms = click.confirms { appendEscaped(confirms, to: &text) } else { append(absent, to: &text) }
            append(click.newReader ? "\t1\t" : "\t0\t", to: &text)
            append(click.newItemReader ? "1\t" : "0\t", to: &text)
            if let requestID = click.requestID {
                appendEscaped(requestID, to: &text)
            } else {
                append(absent, to: &text)
            }
            text.append(tab)
            for (index, taint) in click.taints.enumerated() {
                if index > 0 { text.append(UInt8(ascii: " ")) }
                append(moment(taint), to: &text)
            }
            text.append(tab)
            append(click.checkBefore.map(moment) ?? absent, to: &text)
            text.append(UInt8(ascii: "\n"))
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func append(_ field: String, to text: inout [UInt8]) {
        text.append(contentsOf: field.utf8)
    }

    /// `field` with backslash, tab, line feed and carriage return escaped (over bytes: each is one byte in UTF-8 and
    /// never part of another character).
    private static func appendEscaped(_ field: String, to text: inout [UInt8]) {
        for byte in field.utf8 {
            switch byte {
            case 0x5C: text += [0x5C, 0x5C]
            case 0x09: text += [0x5C, UInt8(ascii: "t")]
            case 0x0A: text += [0x5C, UInt8(ascii: "n")]
            case 0x0D: text += [0x5C, UInt8(ascii: "r")]
            default: text.append(byte)
            }
        }
    }

    /// The clicks of a parcel, in order; nil when a line does not hold a click (nothing of it is then moved).
    static func decode(_ text: String) -> [ClickRecord]? {
        var clicks: [ClickRecord] = []
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.last?.isEmpty == true else { return nil }
        for line in lines.dropLast() {
            guard let click = click(Array(line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)))
            else { return nil }
            clicks.append(click)
        }
        return clicks
    }

    /// The click of one line's fields.
    private static func click(_ fields: [Substring.UTF8View]) -> ClickRecord? {
        guard fields.count == Self.fields.count else { return nil }
        let text = fields.map { String(Substring($0)) }
        guard let at = moment(text[0]), let kind = ClickRecord.storedKinds[text[1]],
            let week = try? ISOWeek(parsing: text[2]), let itemID = optional(text[3], Int64.init),
            let network = optional(text[4], Network.init(rawValue:)),
            let ambassadorID = optional(text[5], Int64.init), let classification = ClickClass(rawValue: text[6]),
            let reason = unescaped(text[7]), let confirms = optional(text[8], unescaped),
            let newReader = flag(text[9]), let newItemReader = flag(text[10]),
            let requestID = optional(text[11], unescaped), let checkBefore = optional(text[13], moment)
        else { return nil }
        var taints: [Date] = []
        if !text[12].isEmpty {
            for part in text[12].split(separator: " ", omittingEmptySubsequences: false) {
                guard let taint = moment(String(part)) else { return nil }
                taints.append(taint)
            }
        }
        var click = ClickRecord(
            at: at, kind: kind, week: week, itemID: itemID, network: network, ambassadorID: ambassadorID,
            verdict: ClickVerdict(classification, reason), taints: taints)
        click.confirms = confirms
        click.newReader = newReader
        click.newItemReader = newItemReader
        click.requestID = requestID
        click.checkBefore = checkBefore
        return click
    }

    /// An absent field.
    static let absent = "\\N"

    /// The value of an optional field: `.some(nil)` when absent, nil when present but unreadable.
    private static func optional<Value>(_ field: String, _ read: (String) -> Value?) -> Value?? {
        if field == absent { return .some(nil) }
        guard let value = read(field) else { return nil }
        return .some(value)
    }

    private static func flag(_ field: String) -> Bool? {
        switch field {
        case "0": false
        case "1": true
        default: nil
        }
    }

    private static func moment(_ date: Date) -> String { "\(date.timeIntervalSinceReferenceDate)" }

    private static func moment(_ field: String) -> Date? {
        guard let seconds = Double(field), seconds.isFinite else { return nil }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    /// The text ``appendEscaped(_:to:)`` was given; nil for an escape it never writes.
    static func unescaped(_ field: String) -> String? {
        guard field.utf8.contains(0x5C) else { return field }
        var bytes: [UInt8] = []
        var escaping = false
        for byte in field.utf8 {
            if escaping {
                switch byte {
                case 0x5C: bytes.append(0x5C)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                default: return nil
                }
                escaping = false
            } else if byte == 0x5C {
                escaping = true
            } else {
                bytes.append(byte)
            }
        }
        return escaping ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
