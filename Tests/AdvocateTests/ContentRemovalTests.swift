import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("Removing a content item")
struct ContentRemovalTests {
    let week = try! ISOWeek(parsing: "2026-W49")

    @Test(
        "content remove: the item goes, its 450 clicks stay counted without it; an unknown id changes nothing"
    )
    func clicksStayCounted() throws {
        let directory = try TempDirectory()
        let context = try makeContext(in: directory)
        let database = try context.openDatabase()
        let anke = try database.addAmbassador(
            Ambassador(email: "anke@x.nl", name: "Anke", language: .nl, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        let kept = try database.addContent(
            ContentItem(url: "https://acme.example/a", title: "Zon", weeks: [week]), now: fixedNow)
        let removed = try database.addContent(
            ContentItem(url: "https://acme.example/b", title: "Wind", weeks: [week]), now: fixedNow)
        // Visits (each one counts) through Anke's post: more than the removal detaches per transaction (200), and
        // not a multiple of it.
        let counts = [removed.id!: 450, kept.id!: 30]
        try database.insertClicks(
            counts.flatMap { item, count in
                (0..<count).map { index in
                    ClickRecord(
                        at: fixedNow.addingTimeInterval(Double(index)), kind: .visit, week: week, itemID: item,
                        network: .x, ambassadorID: anke.id, verdict: ClickVerdict(.human, "test"))
                }
            })
        func visitsByItem() throws -> [String: Int] {
            let report = try database.report(ReportFilter(week: week), by: .item)
            return Dictionary(uniqueKeysWithValues: report.rows.map { ($0.key, $0.visits) })
        }
        #expect(try visitsByItem() == ["Wind": 450, "Zon": 30])

        let unknown = try advocate(["content", "remove", "999"], in: directory.url)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no content item with id 999"), "\(unknown.stderr)")
        #expect(try visitsByItem() == ["Wind": 450, "Zon": 30], "nothing changed")

        let run = try advocate(["content", "remove", "\(removed.id!)"], in: directory.url)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("Removed item \(removed.id!)."))
        #expect(try database.contentItem(id: removed.id!) == nil)
        #expect(try database.contentItem(id: kept.id!) != nil)
        #expect(
            try visitsByItem() == ["(removed item)": 450, "Zon": 30], "every click kept, the other item's untouched")
        let notes = try database.contentChanges(itemID: removed.id!).map(\.action)
        #expect(notes.filter { $0 == "remove" }.count == 1, "\(notes)")
        #expect(try database.removeContent(id: removed.id!) == false, "gone")
    }
}
