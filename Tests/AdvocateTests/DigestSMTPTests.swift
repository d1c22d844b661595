import AdvocateCore
import Foundation
import Testing

@Suite("Digests sent through libcurl to a real SMTP server", .serialized)
struct DigestSMTPTests {
    let people = """
        email,name,language,themes,networks
        stephan@example.org,Stéphan Lam,nl,,linkedin;x;whatsapp
        zoe@example.org,"Zoë d'Hondt",en,duurzaamheid,facebook;bluesky;email
        emoji@example.org,Ana 🚀 Emoji,nl,werken-bij,linkedin
        """
    let content = """
        [{"url": "https://acme.example/zon?ref=site#top", "title": "Zonnepark open ☀️", "theme": "duurzaamheid",
          "summary": "Stroom voor 4.000 huishoudens", "image": "https://acme.example/zon.jpg",
          "week": "2026-W49", "texts": ["Trots op het team & de buurt!", "Twee jaar bouwen, nu open."]},
         {"url": "https://acme.example/vacature", "title": "We zoeken monteurs", "theme": "werken-bij", "week": "2026-W49",
          "texts": ["Ken jij een monteur?"]}]
        """

    /// A folder with config, ambassadors and content loaded, and an SMTP server to send to.
    func prepare(tls: Bool = false, auth: String? = nil) throws -> (TempDirectory, SMTPServerProcess) {
        let directory = try TempDirectory()
        let server = try SMTPServerProcess(
            directory: directory.url.appendingPathComponent("mail"), tls: tls, auth: auth)
        try directory.write(
            "config.json",
            smtpConfig(port: server.port, certificate: server.certificate, username: auth == nil ? nil : "advocate"))
        try directory.write("people.csv", people)
        try directory.write("content.json", content)
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        #expect(try advocate(["content", "import", "content.json"], in: directory.url).status == 0)
        return (directory, server)
    }

    @Test("STARTTLS + AUTH: every ambassador receives one well-formed digest in their language")
    func sendsDigests() throws {
        let (directory, server) = try prepare(tls: true, auth: "advocate:s3cret")

        let send = try advocate(
            ["digest", "send", "--week", "2026-W49"], in: directory.url,
            environment: ["ADVOCATE_SMTP_PASSWORD": "s3cret"])
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")
        #expect(send.stdout.contains("3 sent in this run"))

        let messages = try server.parsedMessages()
        #expect(messages.count == 3)
        let byAddress = Dictionary(uniqueKeysWithValues: messages.map { ($0["toAddress"] as! String, $0) })
        #expect(Set(byAddress.keys) == ["stephan@example.org", "zoe@example.org", "emoji@example.org"])
        for message in messages {
            #expect(message["contentType"] as? String == "multipart/alternative")
            #expect(message["partTypes"] as? [String] == ["text/plain", "text/html"])
            #expect((message["defects"] as? [String])?.isEmpty == true)
            #expect((message["maxLineLength"] as? Int ?? 999) <= 78)
            #expect(message["bareLF"] as? Bool == false)
            #expect((message["from"] as? String) == "Acme Ambassadeurs <ambassadors@acme.example>")
            #expect((message["messageID"] as? String)?.hasSuffix("@acme.example>") == true)
            let unsubscribe = message["listUnsubscribe"] as? String ?? ""
            #expect(unsubscribe.hasPrefix("<https://advocate.example.org/u/") && unsubscribe.hasSuffix(">"))
            #expect(message["listUnsubscribePost"] as? String == "List-Unsubscribe=One-Click")
            #expect(message["listID"] as? String == "Advocate <ambassadors.acme.example>")
        }

        let stephan = try #require(byAddress["stephan@example.org"])
        #expect(stephan["toName"] as? String == "Stéphan Lam")
        #expect(stephan["subject"] as? String == "Om te delen in week 49: Zonnepark open ☀️")
        let stephanText = try #require(stephan["text"] as? String).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(stephanText.hasPrefix("Hoi Stéphan,"))
        #expect(stephanText.contains("Nog niets gedeeld?"), "a newcomer's results block invites instead of scolding")
        for label in ["Plaats op LinkedIn", "Plaats op X", "Stuur via WhatsApp"] {
            #expect(stephanText.contains("\(label):\nhttps://advocate.example.org/s/"), "\(label) button")
        }
        #expect(stephanText.split(separator: "\n").allSatisfy { $0.count <= 72 || !$0.contains(" ") })
        #expect(!stephanText.contains("Bluesky"))
        let stephanHTML = try #require(stephan["html"] as? String)
        #expect(stephanHTML.contains("<html lang=\"nl\""))
        #expect(stephanHTML.contains("Zonnepark open ☀️"))
        #expect(stephanHTML.contains("alt=\"Zonnepark open ☀️\""))
        #expect(
            stephanHTML.contains("Trots op het team &amp; de buurt!")
                || stephanHTML.contains("Twee jaar bouwen, nu open."))
        #expect(stephanHTML.contains("LinkedIn neemt geen tekst over"), "only the networks Stéphan uses are named")

        let zoe = try #require(byAddress["zoe@example.org"])
        #expect(zoe["toName"] as? String == "Zoë d'Hondt")
        #expect((zoe["subject"] as? String)?.hasPrefix("Ready to share, week 49") == true)
        let zoeText = try #require(zoe["text"] as? String).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(zoeText.hasPrefix("Hi Zoë,"))
        #expect(!zoeText.contains("We zoeken monteurs"), "themes filter the items")
        for label in ["Post on Facebook", "Post on Bluesky", "Send by e-mail"] {
            #expect(zoeText.contains("\(label):\nhttps://advocate.example.org/s/"), "\(label) button")
        }
        let zoeHTML = try #require(zoe["html"] as? String)
        #expect(zoeHTML.contains("href=\"https://advocate.example.org/t/"), "the hidden honeypot link")

        let emoji = try #require(byAddress["emoji@example.org"])
        #expect(emoji["toName"] as? String == "Ana 🚀 Emoji")
        #expect((emoji["subject"] as? String)?.contains("We zoeken monteurs") == true)

        let again = try advocate(
            ["digest", "send", "--week", "2026-W49"], in: directory.url,
            environment: ["ADVOCATE_SMTP_PASSWORD": "s3cret"])
        #expect(again.status == 0)
        #expect(server.received().count == 3, "a second run sends nothing")
    }

    @Test("a wrong password stops the run with one clear error and leaves everyone pending")
    func wrongPassword() throws {
        let (directory, server) = try prepare(tls: true, auth: "advocate:s3cret")
        let send = try advocate(
            ["digest", "send", "--week", "2026-W49"], in: directory.url,
            environment: ["ADVOCATE_SMTP_PASSWORD": "wrong"])
        #expect(send.status == 1)
        #expect(send.stderr.hasPrefix("error: the mail transport stopped working:"))
        #expect(server.received().isEmpty)
        let status = try advocate(["digest", "status", "--week", "2026-W49", "--json"], in: directory.url)
        let totals = try #require(
            (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["totals"]
                as? [String: Int])
        #expect(totals["sent"] == nil && totals["failed"] == nil)
        #expect(totals["pending"] == 3)
    }

    @Test("--dry-run and preview record nothing, --test mails one address, --limit caps a run, late joiners get it")
    func options() throws {
        let (directory, server) = try prepare()
        let week = ["--week", "2026-W49"]

        let dry = try advocate(["digest", "send", "--dry-run", "dry"] + week, in: directory.url)
        #expect(dry.stdout.contains("wrote 3 digest(s)"))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path("dry"))
        #expect(files.filter { $0.hasSuffix(".eml") }.count == 3)
        let dryJSON = try advocate(["digest", "send", "--dry-run", "dry2", "--json"] + week, in: directory.url)
        let parsed = try JSONSerialization.jsonObject(with: Data(dryJSON.stdout.utf8)) as? [String: Any]
        #expect(parsed?["written"] as? Int == 3 && parsed?["week"] as? String == "2026-W49", "\(dryJSON.stdout)")
        let preview = try advocate(
            ["digest", "preview", "zoe@example.org", "--out", "preview"] + week, in: directory.url)
        #expect(preview.stdout.split(separator: "\n").map { $0.suffix(4) } == ["html", ".txt", ".eml"])
        #expect(server.received().isEmpty)
        let notStarted = try advocate(["digest", "status"] + week, in: directory.url)
        #expect(notStarted.status == 1 && notStarted.stderr.contains("no digest was started for 2026-W49"))

        let test = try advocate(
            ["digest", "send", "--test", "comms@acme.example", "--as", "zoe@example.org"] + week, in: directory.url)
        #expect(test.status == 0, "\(test.stderr)")
        #expect(server.received().map(\.recipient) == ["comms@acme.example"])
        #expect(server.received().first?.messageID.contains(".test.") == true)
        let testMail = try #require(try server.parsedMessages().first)
        #expect(testMail["to"] as? String == "comms@acme.example", "no ambassador's name on another's address")

        let limited = try advocate(["digest", "send", "--limit", "1"] + week, in: directory.url)
        #expect(limited.status == 3, "pending deliveries remain: a partial run")
        #expect(server.received().count == 2)
        #expect(try advocate(["digest", "send"] + week, in: directory.url).status == 0)
        #expect(server.received().count == 4)

        #expect(
            try advocate(["ambassadors", "add", "late@example.org", "--name", "Late"], in: directory.url).status == 0)
        let again = try advocate(["digest", "send"] + week, in: directory.url)
        #expect(again.stdout.contains("1 sent in this run"))
        #expect(server.received().last?.recipient == "late@example.org")
        #expect(Set(server.received().dropFirst().map(\.recipient)).count == 4, "nobody got it twice")
    }

    @Test("people who unsubscribe or are removed mid-week are settled as skipped, and the ledger comes unstuck")
    func ledgerSettlesInactive() throws {
        let (directory, server) = try prepare()
        let week = ["--week", "2026-W49"]
        let first = try advocate(["digest", "send", "--limit", "1"] + week, in: directory.url)
        #expect(first.status == 3, "two deliveries are still pending")
        let mailed = try #require(server.received().first?.recipient)
        let others = ["stephan@example.org", "zoe@example.org", "emoji@example.org"].filter { $0 != mailed }
        #expect(
            try advocate(["ambassadors", "set", others[0], "--status", "unsubscribed"], in: directory.url).status == 0)
        #expect(try advocate(["ambassadors", "remove", others[1]], in: directory.url).status == 0)

        let second = try advocate(["digest", "send", "--json"] + week, in: directory.url)
        #expect(second.status == 0, "nothing can still be sent: \(second.stdout)\(second.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        #expect(summary?["totals"] as? [String: Int] == ["sent": 1, "skipped": 2])
        #expect(try advocate(["digest", "send"] + week, in: directory.url).status == 0, "and it stays that way")
        #expect(server.received().count == 1)

        let status = try advocate(["digest", "status", "--status", "skipped"] + week, in: directory.url)
        #expect(status.stdout.contains("the ambassador is unsubscribed"))
        #expect(status.stdout.contains("the ambassador was removed"))

        // Re-subscribing in the same week brings the digest after all.
        #expect(try advocate(["ambassadors", "set", others[0], "--status", "active"], in: directory.url).status == 0)
        #expect(try advocate(["digest", "send"] + week, in: directory.url).status == 0)
        #expect(server.received().map(\.recipient) == [mailed, others[0]])
    }

    @Test("a test send carries test links only: no one-click header, a fresh Message-ID each time")
    func testSendIsNotLive() throws {
        let (directory, server) = try prepare()
        let week = ["--week", "2026-W49"]
        for _ in 1...2 {
            let test = try advocate(
                ["digest", "send", "--test", "comms@acme.example", "--as", "zoe@example.org"] + week,
                in: directory.url)
            #expect(test.status == 0, "\(test.stderr)")
        }
        let messages = try server.parsedMessages()
        #expect(messages.count == 2)
        let ids = messages.compactMap { $0["messageID"] as? String }
        #expect(Set(ids).count == 2, "each test has its own Message-ID")
        let sealer = LinkSealer(keyring: try LinkKeyring(parsing: testLinkKeys))
        for message in messages {
            #expect(message["listUnsubscribePost"] is NSNull, "no one-click unsubscribe in a test")
            let parts = [message["html"], message["text"], message["listUnsubscribe"]].compactMap { $0 as? String }
            #expect(parts.count == 3)
            let tokens = parts.joined(separator: " ").components(separatedBy: "https://advocate.example.org/")
                .dropFirst().map { String($0.dropFirst(2).prefix(23)) }
            #expect(
                tokens.count >= 9, "share, honeypot, preferences and unsubscribe links in both parts and the header")
            for token in tokens {
                let opened = try #require(sealer.open(token), "\(token)")
                #expect(opened.test, "every link of a test message is a test link")
            }
        }
    }
}
