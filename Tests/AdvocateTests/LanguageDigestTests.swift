import AdvocateCore
import Foundation
import Testing

@Suite("One item in several languages, through a real SMTP server and the click server", .serialized)
struct LanguageDigestTests {
    @Test("an English and a Dutch ambassador each get their own language of the same item, in the mail and the share")
    func ownLanguage() throws {
        let directory = try TempDirectory()
        let smtp = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://advocate.example.org",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0},
             "mail": {"transport": "smtp", "fromName": "Acme", "fromAddress": "ambassadors@acme.example",
                      "smtp": {"url": "smtp://127.0.0.1:\(smtp.port)", "startTLS": "off"}}}
            """)
        try directory.write(
            "people.csv",
            """
            email,name,language,themes,networks
            eva@example.org,Eva Jones,en,,x;linkedin
            jan@example.org,Jan de Vries,nl,,x;linkedin
            """)
        try directory.write(
            "content.json",
            """
            [{"url": "https://acme.example/windpark", "title": "Windpark op zee geopend", "language": "nl",
              "summary": "Het grootste windpark van Acme.", "week": "2026-W49",
              "prompt": "Wat betekent dit voor jouw werk?",
              "texts": ["Trots op ons windpark!", {"network": "x", "text": "Windpark open #energie"}],
              "variants": {"en": {"title": "Offshore wind farm opens", "summary": "Acme's largest wind farm.",
                                  "prompt": "What does this mean for your work?",
                                  "texts": ["Proud of our wind farm!", {"network": "x", "text": "Wind farm open #energy"}]}}},
             {"url": "https://acme.example/dutch-only", "title": "Alleen in het Nederlands", "week": "2026-W49",
              "texts": ["Alleen Nederlands"]}]
            """)
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        let imported = try advocate(["content", "import", "content.json"], in: directory.url)
        #expect(imported.status == 0, "\(imported.stderr)")

        let send = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")
        let messages = try smtp.parsedMessages()
        let byAddress = Dictionary(uniqueKeysWithValues: messages.map { ($0["toAddress"] as! String, $0) })
        let eva = try #require(byAddress["eva@example.org"])
        let jan = try #require(byAddress["jan@example.org"])
        let evaText = (eva["text"] as? String ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        let janText = (jan["text"] as? String ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        let evaHTML = eva["html"] as? String ?? ""
        #expect(eva["subject"] as? String == "Ready to share, week 49: Offshore wind farm opens")
        #expect(jan["subject"] as? String == "Om te delen in week 49: Windpark op zee geopend")
        #expect(evaText.contains("Offshore wind farm opens") && !evaText.contains("Windpark op zee geopend"))
        #expect(evaText.contains("In your own words: What does this mean for your work?"))
        #expect(evaText.contains("Proud of our wind farm!"))
        #expect(evaHTML.contains("Acme&#39;s largest wind farm.") || evaHTML.contains("Acme's largest wind farm."))
        #expect(
            evaText.contains("Alleen in het Nederlands"), "an item without a variant falls back to its main language")
        #expect(janText.contains("Windpark op zee geopend") && !janText.contains("Offshore"))
        #expect(janText.contains("In je eigen woorden: Wat betekent dit voor jouw werk?"))
        #expect(janText.contains("Trots op ons windpark!"))

        // The X button of each opens X with that person's language.
        let server = try ServerProcess(directory: directory.url)
        defer { server.stop() }
        func xIntent(_ text: String, label: String) throws -> String {
            let lines = text.components(separatedBy: "\n")
            let index = try #require(lines.firstIndex(of: "\(label):"), "no \(label) button")
            let link = lines[index + 1].replacingOccurrences(of: "https://advocate.example.org", with: server.baseURL)
            return try http(link).location.removingPercentEncoding ?? ""
        }
        let evaIntent = try xIntent(evaText, label: "Post on X")
        let janIntent = try xIntent(janText, label: "Plaats op X")
        #expect(evaIntent.contains("Wind farm open #energy"), "\(evaIntent)")
        #expect(janIntent.contains("Windpark open #energie"), "\(janIntent)")

        // The CLI edits a variant; the next preview shows it.
        let translated = try advocate(
            ["content", "translate", "1", "en", "--title", "Wind farm at sea opens", "--text", "Look at this!"],
            in: directory.url)
        #expect(translated.status == 0, "\(translated.stderr)")
        let shown = try advocate(["content", "list", "--json"], in: directory.url)
        #expect(shown.stdout.contains("Wind farm at sea opens"))
        let main = try advocate(["content", "translate", "1", "nl", "--title", "x"], in: directory.url)
        #expect(main.status != 0)
        #expect(main.stderr.contains("variants.nl: is the item's main language"))

        // Re-importing a file without translations keeps the ones made since; --remove takes one away.
        try directory.write(
            "old.json",
            """
            [{"url": "https://acme.example/windpark", "title": "Windpark op zee geopend", "week": "2026-W49"}]
            """)
        #expect(try advocate(["content", "import", "old.json"], in: directory.url).status == 0)
        #expect(
            try advocate(["content", "list", "--json"], in: directory.url).stdout.contains("Wind farm at sea opens"))
        let removed = try advocate(["content", "translate", "1", "en", "--remove"], in: directory.url)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(!(try advocate(["content", "list", "--json"], in: directory.url).stdout.contains("Wind farm")))
        let history = try advocate(["content", "history", "1"], in: directory.url)
        #expect(history.stdout.contains("cli:"), "the command line's changes carry the user")
    }
}
