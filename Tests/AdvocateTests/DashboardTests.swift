import AdvocateCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import Advocate

@Suite("The dashboard in a real browser", .serialized)
struct DashboardTests {
    let token = "dashboard-secret-\(UUID().uuidString)"

    /// The server runs on the real clock, so the clicks are stamped now and the goal is this year's.
    let now = Date()
    let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!
    var year: Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = amsterdam
        return calendar.component(.year, from: now)
    }

    /// A database with clicks in the last three weeks, a goal and a digest with mixed delivery results.
    func seeded() throws -> (TempDirectory, [ISOWeek]) {
        let directory = try TempDirectory()
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "organization": "Acme Energie",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0},
             "clicks": {"costPerClick": {"x": 2.0}},
             "plan": {"goals": [{"period": "\(year)", "shares": 20, "visits": 200}]}}
            """)
        let database = try directory.openDatabase()
        let current = ISOWeek(containing: now, in: amsterdam)
        let weeks = [current.previous.previous, current.previous, current]
        var ids: [Int64] = []
        for index in 1...3 {
            ids.append(
                try database.addAmbassador(
                    Ambassador(
                        email: "p\(index)@x.nl", name: "P\(index)", language: .nl, networks: [.x], joinedAt: now),
                    now: now
                ).id!)
        }
        let item = try database.addContent(
            ContentItem(url: "https://acme.example/a", title: "Zonnepark <open>", weeks: weeks), now: now)
        var clicks: [ClickRecord] = []
        for (offset, week) in weeks.enumerated() {
            for (index, id) in ids.enumerated() where index <= offset {
                clicks.append(
                    ClickRecord(
                        at: now, kind: .share, week: week, itemID: item.id, network: .x, ambassadorID: id,
                        verdict: ClickVerdict(.human, "browser")))
            }
            for visit in 0..<(offset + 1) * 4 {
                var reader = ClickRecord(
                    at: now, kind: .visit, week: week, itemID: item.id, network: .x, ambassadorID: ids[0],
                    verdict: ClickVerdict(.human, "browser"))
                reader.confirms = "reader"
                reader.newReader = visit % 4 == 0
                clicks.append(reader)
                clicks.append(
                    ClickRecord(
                        at: now, kind: .visit, week: week, itemID: item.id, network: .x, ambassadorID: ids[0],
                        verdict: ClickVerdict(.crawler, "user agent: linkedinbot")))
            }
        }
        try database.insertClicks(clicks)
        let digest = try database.beginDigest(week: current, now: now)
        try database.enqueueDeliveries(digestID: digest.id, week: current, now: now)
        for (index, delivery) in try database.claimDeliveries(digestID: digest.id, now: now, sender: 1, limit: 10)
            .enumerated()
        {
            try database.recordOutcome(
                deliveryID: delivery.id, status: index == 0 ? .failed : .sent, error: nil, now: now)
        }
        return (directory, weeks)
    }

    /// A dashboard over ``seeded()`` on a clock the test moves, with its store and the error lines it logs.
    struct Clocked {
        let directory: TempDirectory  // kept: the folder goes with it
        let clock: TestClock
        let database: AppDatabase
        let dashboard: Dashboard
        let log: LogLines
    }

    func clocked() throws -> Clocked {
        let (directory, _) = try seeded()
        let clock = TestClock(now)
        let context = try AppContext.load(
            configPath: directory.url.appendingPathComponent("config.json").path, environment: TestBackend.environment,
            now: { clock.now })
        let database = try context.openDatabase()
        let log = LogLines()
        return Clocked(
            directory: directory, clock: clock, database: database,
            dashboard: try Dashboard(context: context, database: database, logger: log.logger), log: log)
    }

    @Test("a goal passed shows its real share (150 %) with a full bar, as advocate report does")
    func goalPassed() {
        let goal = Dashboard.goal(
            GoalProgress(
                period: "2026", theme: nil, shares: 30, sharesGoal: 20, visits: 5, visitsGoal: 200,
                activeAmbassadors: 1,
                activeAmbassadorsGoal: nil))
        let bars = goal["bars"] as? [[String: Any]] ?? []
        #expect(bars.count == 2)
        #expect(bars.first?["percent"] as? Int == 150 && bars.first?["width"] as? String == "300.0")
        #expect(bars.last?["percent"] as? Int == 3 && bars.last?["width"] as? String == "7.5")
    }

    @Test("a stale dashboard is served at once while its figures are read again, then the new one")
    func staleWhileRevalidate() async throws {
        let fixture = try clocked()
        let first = try await fixture.dashboard.page()
        fixture.clock.advance(by: 10)
        #expect(try await fixture.dashboard.page() == first, "fresh for 30 s")
        fixture.clock.advance(by: 25)
        #expect(try await fixture.dashboard.page() == first, "stale: the kept page at once, not a wait for the reports")
        await fixture.dashboard.settled()
        // The page says when it was computed, so the new one differs.
        #expect(try await fixture.dashboard.page() != first, "computed again in the background")
        #expect(fixture.log.lines.isEmpty)
    }

    @Test("a reading that fails keeps the last page, is logged, and is tried again after retrySeconds")
    func failedReading() async throws {
        let fixture = try clocked()
        let first = try await fixture.dashboard.page()
        try fixture.database.write { try $0.execute(sql: "ALTER TABLE click RENAME TO click_away") }
        fixture.clock.advance(by: 31)
        #expect(try await fixture.dashboard.page() == first)
        await fixture.dashboard.settled()
        #expect(try await fixture.dashboard.page() == first, "the reading failed: the last page is still served")
        #expect(fixture.log.lines.count == 1)
        #expect(fixture.log.lines.first?.contains("the dashboard's figures could not be read") == true)

        try fixture.database.write { try $0.execute(sql: "ALTER TABLE click_away RENAME TO click") }
        fixture.clock.advance(by: Dashboard.retrySeconds - 1)
        #expect(try await fixture.dashboard.page() == first)
        await fixture.dashboard.settled()
        #expect(try await fixture.dashboard.page() == first, "not tried again within retrySeconds")
        fixture.clock.advance(by: 1)
        #expect(try await fixture.dashboard.page() == first)
        await fixture.dashboard.settled()
        #expect(try await fixture.dashboard.page() != first, "tried again, and read")
        #expect(fixture.log.lines.count == 1)
    }

    @Test("in headless Chromium the charts, goals and delivery figures show what the data says")
    func browser() throws {
        let (directory, weeks) = try seeded()
        let server = try ServerProcess(directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token])
        defer { server.stop() }
        let artifacts = packageRoot.appendingPathComponent("artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let data = try runFixture(
            "Tests/Fixtures/page_check.py",
            [
                "\(server.baseURL)/admin",
                artifacts.appendingPathComponent("dashboard.png").path, "--bearer", token,
            ])
        let page = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let sections = try #require(page["sections"] as? [String: [String: Any]])
        #expect(page["overflowsWidth"] as? Bool == false)

        /// Rendered height in pixels of the bar whose tooltip is `title`.
        func height(_ chart: String, _ title: String) -> Double? {
            (sections[chart]?["bars"] as? [[String: Any]])?.first { $0["title"] as? String == title }?["height"]
                as? Double
        }
        for chart in ["chart-shares", "chart-visits"] {
            let bars = sections[chart]?["bars"] as? [[String: Any]] ?? []
            #expect(bars.count == 24, "\(chart): 12 weeks, human and raw")
            #expect(sections[chart]?["visible"] as? Bool == true)
            for week in weeks { #expect((sections[chart]?["text"] as? String)?.contains("W\(week.week)") == true) }
        }
        // Shares per week are 1, 2, 3: on screen the last bar is three times as tall as the first.
        let first = try #require(height("chart-shares", "W\(weeks[0].week): 1 human"))
        let last = try #require(height("chart-shares", "W\(weeks[2].week): 3 human"))
        #expect(first > 10)
        #expect(abs(last / first - 3) < 0.05, "\(first) → \(last)")
        // Visits: human 12 against raw 24 in the last week: the human bar is half the raw one.
        let human = try #require(height("chart-visits", "W\(weeks[2].week): 12 human"))
        let raw = try #require(height("chart-visits", "W\(weeks[2].week): 24 raw"))
        #expect(abs(raw / human - 2) < 0.05)
        let goals = sections["goals"]?["text"] as? String ?? ""
        #expect(goals.contains("\(year)"))
        #expect(goals.contains("6 / 20 (30%)") && goals.contains("24 / 200 (12%)"))
        let ambassadors = sections["ambassadors"]?["text"] as? String ?? ""
        #expect(ambassadors.contains("3 active"))
        #expect(ambassadors.contains("sent 2") && ambassadors.contains("failed 1"))
        #expect((sections["items"]?["text"] as? String)?.contains("Zonnepark <open>") == true)
        let reach = sections["reach"]?["text"] as? String ?? ""
        #expect(reach.contains("6 shares clicked · 3 confirmed"), "\(reach)")
        #expect(reach.contains("24 visits · 6 unique readers"), "\(reach)")
        #expect(reach.contains("Earned media value: EUR 12.00 (an estimate"), "\(reach)")
    }
}

/// A logger whose error lines (or, with its level lowered, lines from that level up) the test can read.
final class LogLines: Sendable {
    private let stored = Mutex<[String]>([])
    var lines: [String] { stored.withLock { $0 } }
    var logger: Logger { Logger(label: "test") { _ in Handler(lines: self) } }

    struct Handler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .error
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.stored.withLock { $0.append("\(event.message)") } }
    }
}
