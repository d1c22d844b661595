import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("Click truth in the store: reclassification by later evidence, confirmed shares, readers, value")
struct ClickTruthStoreTests {
    let week = try! ISOWeek(parsing: "2026-W49")

    func setUp() throws -> (TempDirectory, AppDatabase, Int64, Int64) {
        let directory = try TempDirectory()
        let context = try makeContext(in: directory)
        let database = try context.openDatabase()
        let anke = try database.addAmbassador(
            Ambassador(email: "anke@x.nl", name: "Anke", language: .nl, networks: [.x, .linkedin], joinedAt: fixedNow),
            now: fixedNow)
        let item = try database.addContent(
            ContentItem(url: "https://acme.example/a", title: "Zon", weeks: [week]), now: fixedNow)
        return (directory, database, anke.id!, item.id!)
    }

    func record(
        _ kind: LinkToken.Kind, _ network: Network, _ verdict: ClickVerdict, at offset: TimeInterval,
        ambassador: Int64, item: Int64, edit: (inout ClickRecord) -> Void = { _ in }
    ) -> ClickRecord {
        var click = ClickRecord(
            at: fixedNow.addingTimeInterval(offset), kind: kind, week: week, itemID: item, network: network,
            ambassadorID: ambassador, verdict: verdict)
        edit(&click)
        return click
    }

    @Test(
        "a share held for a paced scan becomes the person's when the network's preview confirms it; never the other way"
    )
    func confirmation() throws {
        let (directory, database, anke, item) = try setUp()
        defer { withExtendedLifetime(directory) {} }
        try database.insertClicks([
            record(
                .share, .x, ClickVerdict(.scanner, "paced: 3 links of one mail in 9 s"), at: 0, ambassador: anke,
                item: item)
        ])
        #expect(try database.report(ReportFilter(week: week), by: .network).total.shares == 0)
        try database.insertClicks([
            record(.visit, .x, ClickVerdict(.crawler, "preview: twitterbot"), at: 3, ambassador: anke, item: item) {
                $0.confirms = "preview"
            }
        ])
        #expect(try database.clickReasons().first == "confirmed by the network's preview")
        // A confirmed LinkedIn share is not reclassified by a burst that completes later.
        try database.insertClicks([
            record(.share, .linkedin, ClickVerdict(.human, "browser"), at: 10, ambassador: anke, item: item),
            record(
                .visit, .linkedin, ClickVerdict(.crawler, "preview: linkedinbot"), at: 12, ambassador: anke, item: item
            ) {
                $0.confirms = "preview"
            },
            record(
                .share, .x, ClickVerdict(.scanner, "several links of one mail within 2 s"), at: 11, ambassador: anke,
                item: item
            ) {
                $0.taints = [fixedNow.addingTimeInterval(10)]
            },
        ])
        let total = try database.report(ReportFilter(week: week), by: .network).total
        #expect(total.shares == 2)
        #expect(total.confirmedShares == 2)
        // A scanner's share with no confirmation stays a scanner's (HEAD, agents and networks are never flipped).
        try database.insertClicks([
            record(.share, .x, ClickVerdict(.scanner, "network: microsoft"), at: 20, ambassador: anke, item: item)
        ])
        #expect(try database.clickCounts()["share/scanner"] == 2)
    }

    @Test("a time-of-click check is reclassified when the person's hit follows; readers and value add up")
    func checkAndReaders() throws {
        let (directory, database, anke, item) = try setUp()
        defer { withExtendedLifetime(directory) {} }
        try database.insertClicks([
            record(.share, .linkedin, ClickVerdict(.human, "browser"), at: 0, ambassador: anke, item: item),
            record(
                .share, .linkedin, ClickVerdict(.human, "after a time-of-click check"), at: 0.5, ambassador: anke,
                item: item
            ) {
                $0.checkBefore = fixedNow
            },
        ])
        #expect(try database.clickReasons() == ["time-of-click check", "after a time-of-click check"])
        try database.insertClicks(
            (0..<5).map { index in
                record(
                    .visit, .linkedin, ClickVerdict(.human, "browser"), at: 60 + Double(index), ambassador: anke,
                    item: item
                ) {
                    $0.confirms = "reader"
                    $0.newReader = index < 3
                    $0.newItemReader = index < 3
                }
            })
        let total = try database.report(ReportFilter(week: week), by: .item, costPerClick: [.linkedin: 4.5]).total
        #expect(total.shares == 1 && total.visits == 5 && total.readers == 3)
        #expect(abs(total.earnedValue - 13.5) < 0.001)
        #expect(total.confirmedShares == 1)
    }
}
