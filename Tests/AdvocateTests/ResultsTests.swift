import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("Results in the digest")
struct ResultsTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    /// Wednesday 25 November 2026, in last week (2026-W48).
    let lastWeek = Date(timeIntervalSince1970: 1_795_597_200)

    /// A database with three ambassadors and known clicks; returns the digest text and HTML of each.
    func digests(leaderboard: String) throws -> [String: (text: String, html: String)] {
        let directory = try TempDirectory()
        let context = try makeContext(
            in: directory,
            config: """
                {"databasePath": "data/test.sqlite", "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
                 "plan": {"leaderboard": "\(leaderboard)"}}
                """)
        let database = try context.openDatabase()
        var people: [String: Ambassador] = [:]
        for (email, name, language, optIn) in [
            ("anke@x.nl", "Anke Sluis", Language.nl, false), ("bob@x.nl", "Bob Bakker", .en, true),
            ("carla@x.nl", "Carla Smit", .nl, true),
        ] {
            var saved = try database.addAmbassador(
                Ambassador(email: email, name: name, language: language, networks: [.x], joinedAt: fixedNow),
                now: fixedNow)
            try database.setLeaderboardOptIn(optIn, ambassadorID: saved.id!, now: fixedNow)
            saved.leaderboardOptIn = optIn
            people[email] = saved
        }
        let item = try database.addContent(
            ContentItem(url: "https://acme.example/zon", title: "Zonnepark open", weeks: [week.previous, week]),
            now: fixedNow)
        let human = ClickVerdict(.human, "browser")
        var clicks: [ClickRecord] = []
        func click(
            _ kind: LinkToken.Kind, _ who: String, _ network: Network, _ verdict: ClickVerdict = human, at: Date? = nil
        ) {
            clicks.append(
                ClickRecord(
                    at: at ?? lastWeek, kind: kind, week: week.previous, itemID: item.id, network: network,
                    ambassadorID: people[who]!.id, verdict: verdict))
        }
        // Anke: 3 shares (one clicked twice), 41 human visits, plus crawler and scanner noise that must not count.
        for network in [Network.x, .linkedin, .whatsapp] { click(.share, "anke@x.nl", network) }
        click(.share, "anke@x.nl", .x)
        for _ in 0..<41 { click(.visit, "anke@x.nl", .linkedin) }
        for _ in 0..<7 { click(.visit, "anke@x.nl", .linkedin, ClickVerdict(.crawler, "user agent: linkedinbot")) }
        click(.share, "anke@x.nl", .bluesky, ClickVerdict(.scanner, "HEAD request"))
        // Bob shared once, long ago (all-time only).
        click(.share, "bob@x.nl", .x, at: lastWeek.addingTimeInterval(-30 * 86_400))
        // Carla: 2 shares and 5 visits last week.
        click(.share, "carla@x.nl", .x)
        click(.share, "carla@x.nl", .linkedin)
        for _ in 0..<5 { click(.visit, "carla@x.nl", .x) }
        try database.insertClicks(clicks)

        let preview = DigestPreview(
            database: database, composer: try context.makeComposer(), timeZone: context.config.timeZone,
            now: context.now)
        var result: [String: (String, String)] = [:]
        for email in people.keys {
            let files = try preview.preview(
                email: email, week: week, directory: directory.url.appendingPathComponent("out"))
            result[email] = (
                try String(contentsOf: files[1], encoding: .utf8), try String(contentsOf: files[0], encoding: .utf8)
            )
        }
        return result
    }

    @Test("own results in the ambassador's language, human counts only; no colleague named when the leaderboard is off")
    func personal() throws {
        let digests = try digests(leaderboard: "off")
        let anke = try #require(digests["anke@x.nl"])
        #expect(flat(anke.text).contains("Vorige week: 3 berichten gedeeld, 41 bezoeken."))
        #expect(flat(anke.text).contains("In totaal: 3 berichten gedeeld, 41 bezoeken."))
        #expect(anke.html.contains("Vorige week: 3 berichten gedeeld, 41 bezoeken."))
        let bob = try #require(digests["bob@x.nl"])
        #expect(flat(bob.text).contains("You did not share anything last week."))
        #expect(flat(bob.text).contains("In all: 1 post shared, 0 visits."))
        let carla = try #require(digests["carla@x.nl"])
        #expect(flat(carla.text).contains("Vorige week: 2 berichten gedeeld, 5 bezoeken."))
        for (email, digest) in digests {
            #expect(!digest.text.contains("The team") && !digest.text.contains("Het team"))
            for name in ["Anke", "Bob", "Carla"] where !email.hasPrefix(name.lowercased()) {
                #expect(
                    !digest.text.contains(name) && !digest.html.contains(name), "\(name) appears in \(email)'s digest")
            }
        }
    }

    @Test("team totals without names, then named top sharers who opted in")
    func team() throws {
        let team = try digests(leaderboard: "team")
        let anke = try #require(team["anke@x.nl"])
        #expect(flat(anke.text).contains("Het team: 2 collega's deelden 5 berichten, 46 bezoeken."))
        #expect(flat(anke.text).contains("Best gelezen: Zonnepark open (46 bezoeken)."))
        #expect(!anke.text.contains("Carla") && !anke.text.contains("Meest gedeeld door"))

        let board = try digests(leaderboard: "opt-in")
        let bob = try #require(board["bob@x.nl"])
        #expect(bob.text.contains("Top sharers: Carla Smit."), "Anke did not opt in, Bob did not share last week")
        #expect(!bob.text.contains("Anke"))
    }
}

/// Text with its line breaks as spaces: sentences may be wrapped at 72 columns.
func flat(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: " ") }
