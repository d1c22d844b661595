import AdvocateCore
import Foundation
import Testing

@Suite("ISO weeks")
struct ISOWeekTests {
    let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!

    @Test("2026 has 53 weeks, 2027 has 52")
    func weeksPerYear() throws {
        #expect(ISOWeek.weeksIn(year: 2026) == 53)
        #expect(ISOWeek.weeksIn(year: 2027) == 52)
        #expect(ISOWeek.weeksIn(year: 2020) == 53)
        #expect(ISOWeek.weeksIn(year: 2015) == 53)
        #expect(ISOWeek.weeksIn(year: 2021) == 52)
        #expect(try ISOWeek(parsing: "2026-W53").description == "2026-W53")
        #expect(throws: ISOWeek.ParseError.noSuchWeek("2027-W53", weeksInYear: 52)) {
            try ISOWeek(parsing: "2027-W53")
        }
        #expect(throws: ISOWeek.ParseError.noSuchWeek("2026-W54", weeksInYear: 53)) {
            try ISOWeek(parsing: "2026-W54")
        }
    }

    @Test("the written form and its looser spellings read as the same week")
    func spellings() throws {
        for text in ["2026-W49", "2026W49", "2026-w49", " 2026-W49 ", "2026w49"] {
            let week = try ISOWeek(parsing: text)
            #expect((week.year, week.week) == (2026, 49), "\(text)")
        }
        #expect(try ISOWeek(parsing: "0999-W01").year == 999)
        #expect(try ISOWeek(parsing: "2027-W01") == ISOWeek(year: 2027, week: 1))
    }

    @Test(
        "malformed weeks are rejected with an example of the right form",
        arguments: [
            "2026-49", "26-W49", "2026-W4", "2026-W049", "W49", "", "2026-W00", "２０２６-W49", "2026-W4x", "20a6-W49",
            "2026+W49", "2026-X49", "2026-W-1",
        ])
    func malformed(text: String) {
        #expect(throws: ISOWeek.ParseError.self) { try ISOWeek(parsing: text) }
    }

    @Test("dates around New Year fall in the right ISO week")
    func yearBoundaries() throws {
        func week(_ iso: String) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = amsterdam
            formatter.formatOptions = [.withFullDate]
            return ISOWeek(containing: formatter.date(from: iso)!.addingTimeInterval(12 * 3600), in: amsterdam)
                .description
        }
        #expect(week("2020-12-31") == "2020-W53")
        #expect(week("2021-01-03") == "2020-W53")
        #expect(week("2021-01-04") == "2021-W01")
        #expect(week("2024-12-30") == "2025-W01")
        #expect(week("2026-12-31") == "2026-W53")
        #expect(week("2027-01-01") == "2026-W53")
        #expect(week("2026-11-29") == "2026-W48")
    }

    @Test("the week is taken in the configured time zone, not UTC")
    func timeZoneMatters() {
        // Sunday 2026-11-29 23:30 UTC is already Monday 00:30 in Amsterdam.
        let moment = Date(timeIntervalSince1970: 1_795_995_000)
        #expect(ISOWeek(containing: moment, in: TimeZone(identifier: "UTC")!).description == "2026-W48")
        #expect(ISOWeek(containing: moment, in: amsterdam).description == "2026-W49")
    }

    @Test("a week starts on Monday at midnight local time")
    func start() throws {
        let start = try ISOWeek(parsing: "2026-W01").start(in: amsterdam)
        #expect(start == Date(timeIntervalSince1970: 1_766_962_800))  // 2025-12-29 00:00 CET
        #expect(try ISOWeek(parsing: "2026-W53").next.description == "2027-W01")
        #expect(try ISOWeek(parsing: "2027-W01").previous.description == "2026-W53")
        #expect(try ISOWeek(parsing: "2026w09") == ISOWeek(year: 2026, week: 9))
    }
}
