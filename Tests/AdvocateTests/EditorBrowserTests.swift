import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("The editor's week in real headless Chromium, against real servers", .serialized)
struct EditorBrowserTests {
    @Test("sign in, add an item by URL, edit it, preview a digest, send a test; the test's links change no counts")
    func editorsWeek() throws {
        let directory = try TempDirectory()
        let smtp = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        let web = try WebServerProcess(directory: directory.url.appendingPathComponent("web"))
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0}, "fetch": {"allowAddresses": ["127.0.0.1/32"]},
             "editor": {"passwordCost": 10},
             "mail": {"transport": "smtp", "fromName": "Acme", "fromAddress": "ambassadors@acme.example",
                      "smtp": {"url": "smtp://127.0.0.1:\(smtp.port)", "startTLS": "off"}}}
            """)
        try directory.write(
            "people.csv", "email,name,language,themes,networks\nzoe@example.org,Zoë Jones,en,,x;linkedin\n")
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        let database = try directory.openDatabase()
        let password = "correct horse battery staple"
        _ = try database.addEditor(
            name: "anna", passwordHash: try EditorAuth.hash(password: password, cost: 10), now: Date())
        let week = ISOWeek(containing: Date(), in: TimeZone(identifier: "Europe/Amsterdam")!).next

        let server = try ServerProcess(directory: directory.url)
        defer { server.stop() }
        let output = try runFixture(
            "Tests/Fixtures/editor_browser.py",
            [
                server.baseURL, "\(web.base)/og.html", week.description, "anna", password, "zoe@example.org",
                "tester@example.org",
            ])
        let report = try #require(
            try JSONSerialization.jsonObject(with: output) as? [String: Any],
            "\(String(decoding: output, as: UTF8.self))")

        #expect(report["redirectedTo"] as? String == "/admin/login")
        #expect(report["afterSignIn"] as? String == "Signed in.")
        for (page, fields) in report["unlabelled"] as? [String: [String]] ?? [:] {
            #expect(fields.isEmpty, "unlabelled fields on \(page): \(fields)")
        }
        let fetched = try #require(report["fetched"] as? [String: String])
        #expect(fetched["notice"] == "Fetched. Check the texts, then save.")
        #expect(fetched["title"] == "Zonnepark Delfzijl levert stroom aan 12.000 huishoudens")
        #expect(fetched["url"] == "\(web.base)/nieuws/zonnepark-delfzijl")
        #expect(fetched["weeks"] == week.description)
        #expect((report["history"] as? [String])?.count == 2, "add and edit, each by anna")
        #expect((report["history"] as? [String])?.allSatisfy { $0.contains("anna") } == true)
        #expect(report["weekItems"] as? [String] == ["Zonnepark Delfzijl levert stroom"])
        let preview = try #require(report["preview"] as? [String: Any])
        #expect(
            preview["subject"] as? String
                == "Ready to share, week \(week.week): Solar park Delfzijl powers 12,000 homes")
        #expect(preview["frameTitles"] as? [String] == ["Solar park Delfzijl powers 12,000 homes"])
        #expect((preview["frameText"] as? String)?.contains("Proud of our solar park!") == true)
        #expect(
            (preview["text"] as? String)?.contains("In your own words: What does this mean for your region?") == true)
        #expect(report["testSend"] as? String == "Test of zoe@example.org's digest sent to tester@example.org.")
        #expect(report["afterSignOut"] as? String == "/admin/login")

        let stored = try #require(try database.contentItems(week: week).first)
        #expect(
            stored.texts.map(\.text) == [
                "Trots op ons zonnepark!", "Zonne-energie voor 12.000 huizen.", "Zonnepark Delfzijl draait #zon",
            ])
        #expect(stored.variants.map(\.language) == [.en])

        // The test message: its own Message-ID, no one-click unsubscribe, and links that count nothing.
        #expect(waitUntil(timeout: 30) { smtp.received().count >= 1 })
        let message = try #require(try smtp.parsedMessages().first)
        #expect(message["toAddress"] as? String == "tester@example.org")
        #expect((message["messageID"] as? String)?.contains(".test.") == true)
        #expect(message["listUnsubscribePost"] == nil || message["listUnsubscribePost"] is NSNull)
        let text = (message["text"] as? String ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        let links = text.split(whereSeparator: \.isWhitespace).map(String.init)
            .filter { $0.hasPrefix("https://go.acme.example/") }
            .map { $0.replacingOccurrences(of: "https://go.acme.example", with: server.baseURL) }
        #expect(links.contains { $0.contains("/s/") } && links.contains { $0.contains("/u/") })
        let before = try database.clickCounts()
        for link in links {
            let answer = try http(link)
            #expect([200, 302].contains(answer.status), "\(link) answered \(answer.status)")
            if let location = answer.location.removingPercentEncoding,
                let visit = location.range(of: "https://go.acme.example/l/")
            {
                let tail = location[visit.lowerBound...].prefix { !$0.isWhitespace && $0 != "&" }
                _ = try http(String(tail).replacingOccurrences(of: "https://go.acme.example", with: server.baseURL))
            }
            if link.contains("/u/") {
                _ = try http(
                    link, method: "POST", body: "List-Unsubscribe=One-Click",
                    headers: ["Content-Type: application/x-www-form-urlencoded"])
            }
        }
        if let trap = (message["html"] as? String)?.components(separatedBy: "https://go.acme.example/t/").dropFirst()
            .first
        {
            _ = try http("\(server.baseURL)/t/\(trap.prefix { $0 != "\"" })")
        }
        server.stop()
        #expect(try database.clickCounts() == before, "a test's links count nothing")
        #expect(before.isEmpty)
        #expect(try database.ambassador(email: "zoe@example.org")?.status == .active, "and unsubscribe nobody")
    }
}
