import Advocate
import AdvocateCore
import Foundation
import Logging
import Testing

@Suite("One definition of a share")
struct ShareFiguresTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!

    /// 2026-12-01 00:30 in Amsterdam, still 30 November in UTC.
    let justAfterMidnight = Date(timeIntervalSince1970: 1_796_081_400)
    /// 2026-12-01 12:00 in Amsterdam.
    let tuesdayNoon = Date(timeIntervalSince1970: 1_796_122_800)

    @Test("report, digest results, goal progress and dashboard give the same numbers, removed people and items too")
    func sameNumbersEverywhere() throws {
        let directory = try TempDirectory()
        let context = try makeContext(
            in: directory,
            config: """
                {"databasePath": "data/advocate.sqlite",
                 "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
                 "plan": {"goals": [{"period": "2026-12", "shares": 10, "visits": 100}]}}
                """)
        let database = try context.openDatabase()
        var ids: [String: Int64] = [:]
        for name in ["anke", "bob", "carla"] {
            ids[name] =
                try database.addAmbassador(
                    Ambassador(email: "\(name)@x.nl", name: name, language: .nl, networks: [.x], joinedAt: fixedNow),
                    now: fixedNow
                ).id
        }
        let kept = try database.addContent(
            ContentItem(url: "https://acme.example/a", title: "Zon", weeks: [week]), now: fixedNow)
        let removed = try database.addContent(
            ContentItem(url: "https://acme.example/b", title: "Wind", weeks: [week]), now: fixedNow)
        func click(
            _ kind: LinkToken.Kind, _ who: String, _ item: ContentItem, _ network: Network, at: Date,
            _ verdict: ClickClass = .human
        ) -> ClickRecord {
            ClickRecord(
                at: at, kind: kind, week: week, itemID: item.id, network: network, ambassadorID: ids[who],
                verdict: ClickVerdict(verdict, "test"))
        }
        try database.insertClicks([
            // Anke: two shares (one clicked twice), one visit; she is erased afterwards.
            click(.share, "anke", kept, .x, at: tuesdayNoon),
            click(.share, "anke", kept, .x, at: tuesdayNoon.addingTimeInterval(60)),
            click(.share, "anke", kept, .linkedin, at: tuesdayNoon),
            click(.visit, "anke", kept, .x, at: tuesdayNoon.addingTimeInterval(600)),
            // Bob shares the item that is removed afterwards; his post earns two visits.
            click(.share, "bob", removed, .x, at: tuesdayNoon),
            click(.visit, "bob", removed, .x, at: tuesdayNoon.addingTimeInterval(300)),
            click(.visit, "bob", removed, .x, at: tuesdayNoon.addingTimeInterval(400)),
            // Carla shares just after midnight on 1 December, Amsterdam time (30 November in UTC).
            click(.share, "carla", kept, .x, at: justAfterMidnight),
            // Machines never count.
            click(.share, "carla", kept, .linkedin, at: tuesdayNoon, .scanner),
            click(.visit, "carla", kept, .x, at: tuesdayNoon, .crawler),
        ])
        #expect(try database.removeContent(id: removed.id!))
        #expect(try database.removeAmbassador(email: "anke@x.nl"))

        let (shares, visits) = (4, 3)
        let december = ReportFilter(
            from: Date(timeIntervalSince1970: 1_796_079_600), to: Date(timeIntervalSince1970: 1_798_758_000))
        let report = try database.report(december, by: .ambassador)
        #expect(report.total.shares == shares)
        #expect(report.total.visits == visits)
        #expect(try database.report(ReportFilter(week: week), by: .item).total.shares == shares)
        #expect(try database.report(ReportFilter(), by: .network).rows.map(\.shares).reduce(0, +) == shares)

        let results = try database.resultsSnapshot(digestWeek: week.next, timeZone: amsterdam)
        #expect(results.team.shares == shares)
        #expect(results.team.visits == visits)
        #expect(results.personal[ids["bob"]!]?.weekShares == 1, "a share of a removed item is still Bob's share")
        #expect(results.personal[ids["bob"]!]?.weekVisits == 2)
        #expect(results.personal[ids["carla"]!]?.weekShares == 1)
        // A preview's snapshot: the same figures for its one person, the same team, nobody else.
        let one = try database.resultsSnapshot(digestWeek: week.next, timeZone: amsterdam, only: ids["bob"]!)
        #expect(Array(one.personal.keys) == [ids["bob"]!])
        #expect(one.personal[ids["bob"]!] == results.personal[ids["bob"]!] && one.team == results.team)
        #expect(report.rows.first { $0.key == "bob@x.nl" }?.shares == 1)

        let goal = try #require(try database.progress(of: context.config.plan.goals, timeZone: amsterdam).first)
        #expect(goal.shares == shares, "Carla's share falls in December in the programme's time zone")
        #expect(goal.visits == visits)
        #expect(goal.activeAmbassadors == 2, "Bob and Carla; Anke is gone")

        let page = try Dashboard(context: context, database: database, logger: Logger(label: "test")).render()
        #expect(page.contains("<title>W49: \(shares) human</title>"))
        #expect(page.contains("\(shares) / 10 (40%)"))
        #expect(page.contains("\(visits) / 100 (3%)"))
    }

    @Test("a share's key depends on all four parts and on nothing else")
    func keyParts() throws {
        let other = try ISOWeek(parsing: "2026-W50")
        let base = ShareKey.of(ambassadorID: 7, itemID: 3, network: .x, week: week)
        #expect(base == ShareKey.of(ambassadorID: 7, itemID: 3, network: .x, week: week))
        let variants = [
            ShareKey.of(ambassadorID: 8, itemID: 3, network: .x, week: week),
            ShareKey.of(ambassadorID: 7, itemID: 4, network: .x, week: week),
            ShareKey.of(ambassadorID: 7, itemID: 3, network: .linkedin, week: week),
            ShareKey.of(ambassadorID: 7, itemID: 3, network: .x, week: other),
            ShareKey.of(ambassadorID: 3, itemID: 7, network: .x, week: week),
        ]
        #expect(Set(variants + [base]).count == 6)
        // The key is stored in the database, so it must never change between versions: a fixed value.
        #expect(ShareKey.of(ambassadorID: 1, itemID: 1, network: .linkedin, week: week) == -4_667_189_559_514_953_442)
    }
}
