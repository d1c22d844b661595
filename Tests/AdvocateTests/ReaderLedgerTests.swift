import Foundation
import Testing

@testable import Advocate

@Suite("Unique readers without storing who they are")
struct ReaderLedgerTests {
    @Test("a reader is new once per share and once per item per day; the next day starts afresh")
    func days() {
        let ledger = ReaderLedger(timeZone: TimeZone(identifier: "Europe/Amsterdam")!)
        let morning = Date(timeIntervalSince1970: 1_796_202_000)
        let anna: [UInt8] = [198, 51, 100, 7]
        let first = ledger.note(address: anna, userAgent: "Firefox", shareKey: 1, itemID: 10, at: morning)
        #expect(first.share && first.item)
        let reload = ledger.note(address: anna, userAgent: "Firefox", shareKey: 1, itemID: 10, at: morning + 30)
        #expect(!reload.share && !reload.item)
        let otherShare = ledger.note(address: anna, userAgent: "Firefox", shareKey: 2, itemID: 10, at: morning + 60)
        #expect(otherShare.share && !otherShare.item, "a second colleague's post of the same item: same reader")
        let otherBrowser = ledger.note(address: anna, userAgent: "Safari", shareKey: 1, itemID: 10, at: morning + 90)
        #expect(otherBrowser.share, "another agent is another reader")
        let tomorrow = ledger.note(address: anna, userAgent: "Firefox", shareKey: 1, itemID: 10, at: morning + 86_400)
        #expect(tomorrow.share && tomorrow.item, "the secret changed with the day")
    }

    @Test("days are the configured zone's; a late request of a day that ended counts nothing and turns nothing back")
    func dayBounds() {
        let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!
        let ledger = ReaderLedger(timeZone: amsterdam)
        // 3 December 2026, 23:59:59 in Amsterdam (22:59:59 UTC), and the next second.
        let lastSecond = Date(timeIntervalSince1970: 1_796_338_799)
        let midnight = lastSecond + 1
        let anna: [UInt8] = [198, 51, 100, 7]
        func note(_ time: Date, share: Int64 = 1) -> (share: Bool, item: Bool) {
            ledger.note(address: anna, userAgent: "Firefox", shareKey: share, itemID: 10, at: time)
        }
        #expect(note(lastSecond) == (true, true))
        #expect(ledger.currentDay == "2026-12-03")
        #expect(note(lastSecond) == (false, false))
        #expect(note(midnight) == (true, true), "local midnight starts a new day, though UTC's is an hour later")
        #expect(ledger.currentDay == "2026-12-04")
        #expect(note(lastSecond, share: 2) == (false, false), "the day before has ended: nothing counts")
        #expect(ledger.currentDay == "2026-12-04", "and the ledger is not turned back")
        #expect(note(midnight + 60) == (false, false), "today's readers are still known")
    }

    @Test("a visit taken back (its click was not stored) is the reader's first again; only what it counted is taken")
    func forget() {
        let ledger = ReaderLedger(timeZone: TimeZone(identifier: "UTC")!)
        let now = Date(timeIntervalSince1970: 1_796_202_000)
        let anna: [UInt8] = [198, 51, 100, 7]
        func note(_ share: Int64) -> (share: Bool, item: Bool) {
            ledger.note(address: anna, userAgent: "Firefox", shareKey: share, itemID: 10, at: now)
        }
        #expect(note(1) == (true, true))
        ledger.forget(address: anna, userAgent: "Firefox", shareKey: 1, itemID: 10, at: now, share: true, item: true)
        #expect(note(1) == (true, true), "taken back whole")
        #expect(note(2) == (true, false))
        ledger.forget(address: anna, userAgent: "Firefox", shareKey: 2, itemID: 10, at: now, share: true, item: false)
        #expect(note(2) == (true, false), "the item's reader, counted by the first visit, stays counted")
        ledger.forget(address: anna, userAgent: "Safari", shareKey: 2, itemID: 10, at: now, share: true, item: true)
        #expect(note(2) == (false, false), "another reader's visit takes back nothing of Anna's")
    }

    @Test(
        "a day of 25 hours (clocks back) and one of 23 (clocks forward) are each one day; a take-back after it ends does nothing"
    )
    func daylightSaving() {
        let ledger = ReaderLedger(timeZone: TimeZone(identifier: "Europe/Amsterdam")!)
        let anna: [UInt8] = [198, 51, 100, 7]
        func note(_ time: Date) -> (share: Bool, item: Bool) {
            ledger.note(address: anna, userAgent: "Firefox", shareKey: 1, itemID: 10, at: time)
        }
        // Sunday 25 October 2026 runs from 22:00 UTC the day before to 23:00 UTC: 25 hours.
        let october25 = Date(timeIntervalSince1970: 1_792_879_200)
        #expect(note(october25 + 30) == (true, true))
        #expect(note(october25 + 25 * 3_600 - 1) == (false, false), "its last second is the same day")
        #expect(ledger.currentDay == "2026-10-25")
        #expect(note(october25 + 25 * 3_600) == (true, true), "the next day")
        ledger.forget(
            address: anna, userAgent: "Firefox", shareKey: 1, itemID: 10, at: october25 + 30, share: true, item: true)
        #expect(note(october25 + 25 * 3_600 + 1) == (false, false), "the ended day's take-back took nothing")
        // Sunday 29 March 2026 runs from 23:00 UTC the day before to 22:00 UTC: 23 hours.
        let march29 = Date(timeIntervalSince1970: 1_774_738_800)
        let spring = ReaderLedger(timeZone: TimeZone(identifier: "Europe/Amsterdam")!)
        #expect(spring.note(address: anna, userAgent: "x", shareKey: 1, itemID: 1, at: march29 + 23 * 3_600 - 1).share)
        #expect(spring.currentDay == "2026-03-29")
        #expect(spring.note(address: anna, userAgent: "x", shareKey: 1, itemID: 1, at: march29 + 23 * 3_600).share)
        #expect(spring.currentDay == "2026-03-30")
    }

    @Test("an address and an agent are read apart: no pair of them passes for another")
    func readersApart() {
        let ledger = ReaderLedger(timeZone: TimeZone(identifier: "UTC")!)
        let now = Date(timeIntervalSince1970: 1_796_202_000)
        #expect(ledger.note(address: [1, 0], userAgent: "x", shareKey: 1, itemID: 1, at: now).share)
        #expect(ledger.note(address: [1], userAgent: "\u{0}x", shareKey: 1, itemID: 1, at: now).share)
        #expect(ledger.note(address: nil, userAgent: "x", shareKey: 1, itemID: 1, at: now).share)
        #expect(!ledger.note(address: [1, 0], userAgent: "x", shareKey: 1, itemID: 1, at: now + 1).share)
    }
}
