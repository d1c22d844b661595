import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("The dashboard in a real browser", .serialized)
struct DashboardTests {
    let token = "dashboard-secret-\(UUID().uuidString)"

    /// A database with clicks in the last three weeks, a goal and a digest with mixed delivery results.
    func seeded() throws -> (TempDirectory, [ISOWeek]) {
        let directory = try TempDirectory()
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "organization": "Acme Energie",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0},
             "plan": {"goals": [{"period": "2026", "shares": 20, "visits": 200}]}}
            """)
        let database = try AppDatabase.open(at: directory.url.appendingPathComponent("data/advocate.sqlite"))
        let now = Date()
        let current = ISOWeek(containing: now, in: TimeZone(identifier: "Europe/Amsterdam")!)
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
            for _ in 0..<(offset + 1) * 4 {
                clicks.append(
                    ClickRecord(
                        at: now, kind: .visit, week: week, itemID: item.id, network: .x, ambassadorID: ids[0],
                        verdict: ClickVerdict(.human, "browser")))
                clicks.append(
                    ClickRecord(
                        at: now, kind: .visit, week: week, itemID: item.id, network: .x, ambassadorID: ids[0],
                        verdict: ClickVerdict(.crawler, "user agent: linkedinbot")))
            }
        }
        try database.insertClicks(clicks)
        let digest = try database.beginDigest(week: current, now: now)
        try database.enqueueDeliveries(digestID: digest.id, now: now)
        for (index, delivery) in try database.dueDeliveries(digestID: digest.id, now: now, limit: 10).enumerated() {
            try database.recordOutcome(
                deliveryID: delivery.id, status: index == 0 ? .failed : .sent, error: nil, now: now)
        }
        return (directory, weeks)
    }

    @Test("without the right credentials: 401 and no data; without a configured token: no dashboard at all")
    func locked() throws {
        let (directory, _) = try seeded()
        let server = try ServerProcess(directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token])
        defer { server.stop() }
        for headers in [[], ["Authorization: Bearer wrong"], ["Authorization: Basic YWRtaW46d3Jvbmc="]] {
            let response = try http("\(server.baseURL)/admin", headers: headers)
            #expect(response.status == 401)
            #expect(!response.body.contains("Zonnepark"))
        }
        let allowed = try http("\(server.baseURL)/admin", headers: ["Authorization: Bearer \(token)"])
        #expect(allowed.status == 200)
        #expect(allowed.body.contains("Zonnepark &lt;open&gt;"))
        server.stop()

        let open = try ServerProcess(directory: directory.url)
        defer { open.stop() }
        #expect(try http("\(open.baseURL)/admin", headers: ["Authorization: Bearer \(token)"]).status == 404)
    }

    @Test("headless Chromium draws the charts: 12 weekly bars per series, heights that follow the data")
    func browser() throws {
        let (directory, weeks) = try seeded()
        let server = try ServerProcess(directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token])
        defer { server.stop() }
        let address = server.baseURL.replacingOccurrences(of: "http://", with: "http://admin:\(token)@") + "/admin"
        let artifacts = packageRoot.appendingPathComponent("artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("dashboard.png")
        try? FileManager.default.removeItem(at: screenshot)
        _ = try chromium(["--screenshot=\(screenshot.path)", "--window-size=1280,1700", address])
        let size = (try FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
        #expect(size > 10_000, "a screenshot was taken")

        let dom = try chromium(["--dump-dom", address])
        func section(_ id: String) -> String {
            guard let start = dom.range(of: "id=\"\(id)\""),
                let end = dom.range(of: "</section>", range: start.upperBound..<dom.endIndex)
            else { return "" }
            return String(dom[start.upperBound..<end.lowerBound])
        }
        for chart in ["chart-shares", "chart-visits"] {
            let html = section(chart)
            #expect(html.components(separatedBy: "class=\"bar-human\"").count - 1 == 12, "\(chart)")
            #expect(html.components(separatedBy: "class=\"bar-raw\"").count - 1 == 12, "\(chart)")
            for week in weeks { #expect(html.contains("W\(week.week)"), "\(chart) labels \(week)") }
        }
        // Shares per week are 1, 2, 3: the last bar is the tallest (full height 160), the first a third of it.
        let shares = section("chart-shares")
        #expect(shares.contains("<title>W\(weeks[2].week): 3 human</title>"))
        #expect(shares.contains("height=\"160.0\"><title>W\(weeks[2].week): 3 human"))
        #expect(shares.contains("height=\"53.3\"><title>W\(weeks[0].week): 1 human"))
        // Visits: human 4, 8, 12 against raw 8, 16, 24.
        #expect(section("chart-visits").contains("<title>W\(weeks[2].week): 24 raw</title>"))
        let goals = section("goals")
        #expect(goals.contains("6 / 20 (30%)") && goals.contains("24 / 200 (12%)"))
        let ambassadors = section("ambassadors")
        #expect(ambassadors.contains(">3</span> active"))
        #expect(ambassadors.contains("<td>sent</td><td class=\"n\">2</td>"))
        #expect(ambassadors.contains("<td>failed</td><td class=\"n\">1</td>"))
    }

    func chromium(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
