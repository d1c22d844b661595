import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("The digest as a reader sees it, in headless Chromium", .serialized)
struct DigestLayoutTests {
    let week = try! ISOWeek(parsing: "2026-W49")

    @Test("first share button within 600 px on a phone for a newcomer and an active sharer; readable in dark mode")
    func layout() throws {
        let directory = try TempDirectory()
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
             "organization": "Acme Energie", "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "plan": {"themes": ["duurzaamheid", "werken-bij", "innovatie", "klanten"], "leaderboard": "team"},
             "digest": {"disclosure": {"nl": "#medewerker", "en": "#employee"}}}
            """)
        try directory.write(
            "people.csv",
            "email,name,language,themes,networks\nbas@example.org,Bas de Vries,nl,,linkedin;facebook;whatsapp;x;email\n"
                + "zoe@example.org,Zoë d'Hondt,en,,linkedin;x;bluesky;whatsapp;facebook;threads;telegram;mastodon;email\n"
        )
        var content = try String(contentsOf: packageRoot.appendingPathComponent("demo/content.json"), encoding: .utf8)
        content = content.replacingOccurrences(of: "\"theme\":", with: "\"week\": \"2026-W49\", \"theme\":")
        try directory.write("content.json", content)
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        #expect(try advocate(["content", "import", "content.json"], in: directory.url).status == 0)

        // Zoë shared three times last week and her posts were read: an active sharer's results block.
        let database = try directory.openDatabase()
        let zoe = try #require(try database.ambassador(email: "zoe@example.org"))
        let item = try #require(try database.contentItems().first)
        let lastWeek = Date(timeIntervalSince1970: 1_795_597_200)  // Wednesday of 2026-W48
        try database.insertClicks(
            [Network.linkedin, .x, .bluesky].map { network in
                ClickRecord(
                    at: lastWeek, kind: .share, week: week.previous, itemID: item.id, network: network,
                    ambassadorID: zoe.id, verdict: ClickVerdict(.human, "test"))
            }
                + (0..<7).map { _ in
                    ClickRecord(
                        at: lastWeek, kind: .visit, week: week.previous, itemID: item.id, network: .linkedin,
                        ambassadorID: zoe.id, verdict: ClickVerdict(.human, "test"))
                })
        var files: [String] = []
        for (email, name) in [("bas@example.org", "nl-newcomer"), ("zoe@example.org", "en-active")] {
            let preview = try advocate(
                ["digest", "preview", email, "--out", "preview", "--week", week.description], in: directory.url)
            #expect(preview.status == 0, "\(preview.stderr)")
            let html = try #require(preview.stdout.split(separator: "\n").first { $0.hasSuffix(".html") })
            files.append("\(name)=\(html)")
        }
        let zoeHTML = try String(contentsOfFile: String(files[1].split(separator: "=")[1]), encoding: .utf8)
        #expect(zoeHTML.contains("What your sharing achieved"), "the active sharer's results block is there")
        #expect(zoeHTML.contains("#employee"), "the disclosure is in the suggested text")

        let data = try runFixture(
            "Tests/Fixtures/digest_layout.py", [packageRoot.appendingPathComponent("artifacts").path] + files)
        let results = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        #expect(results.count == 8)
        for (view, result) in results {
            let buttons = result["buttons"] as? [[String: Any]] ?? []
            #expect(!buttons.isEmpty, "\(view)")
            #expect(result["overflow"] as? Bool == false, "\(view) is wider than the screen")
            for button in buttons {
                #expect((button["height"] as? Double ?? 0) >= 44, "\(view): \(button)")
                #expect((button["contrast"] as? Double ?? 0) >= 4.5, "\(view): \(button)")
            }
            if view.contains("-375-") {
                let first = try #require(buttons.first)
                #expect((first["top"] as? Double ?? 999) < 600, "\(view): the first share button starts at \(first)")
                #expect((first["width"] as? Double ?? 0) >= 300, "\(view): buttons are full width on a phone")
            }
        }
    }
}
