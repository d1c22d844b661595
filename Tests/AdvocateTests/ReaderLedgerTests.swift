import Advocate
import Foundation
import Testing

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
}
