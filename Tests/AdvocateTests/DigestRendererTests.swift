import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("Digest rendering with the shipped templates")
struct DigestRendererTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))

    func renderer() throws -> DigestRenderer {
        let templates = try TemplateSet.load(directory: packageRoot.appendingPathComponent("Templates"))
        return DigestRenderer(
            templates: templates, organization: "Acme",
            links: IntentShareLinks(baseURL: "https://advocate.example.org", sealer: sealer))
    }

    func person(
        _ id: Int64, name: String = "Zoë d'Hondt", language: Language = .nl, networks: [Network] = [.linkedin, .x]
    )
        -> Ambassador
    {
        Ambassador(
            id: id, email: "p\(id)@x.nl", name: name, language: language, networks: networks,
            joinedAt: Date(timeIntervalSince1970: 0))
    }

    var items: [ContentItem] {
        [
            ContentItem(
                id: 1, url: "https://acme.example/zon", title: "Zon & wind", summary: "Stroom",
                imageURL: "https://acme.example/z.jpg",
                weeks: [week], texts: [.init(text: "Tekst een"), .init(text: "Tekst twee")])
        ]
    }

    @Test("the HTML is mail-client safe and personal")
    func html() throws {
        let digest = try #require(try renderer().render(for: person(1), weekItems: items, week: week))
        let html = digest.html
        #expect(html.contains("<html lang=\"nl\""))
        #expect(html.contains("Hoi Zoë,"))
        #expect(html.contains("width=\"600\"") && !html.contains("width=\"601\""))
        #expect(html.contains("display:none") && html.contains(" bij jou pas"), "hidden preheader")
        #expect(html.contains("alt=\"Zon &amp; wind\""))
        #expect(html.contains("prefers-color-scheme: dark"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("<link"), "no external CSS")
        #expect(html.contains("https://x.com/intent/tweet?text=Tekst%20"))
        #expect(html.contains("/u/"), "unsubscribe link in the footer")
        #expect(html.contains("LinkedIn neemt geen tekst over"), "the copy hint names the person's network")
        #expect(html.contains(">Plaats op LinkedIn</a>"), "buttons name the action")
        #expect(!html.contains("\u{E000}"), "every marker is filled")
        #expect(digest.subject == "Om te delen in week 49: Zon & wind")
        // The text part tells LinkedIn's users to copy the text too, as the HTML part does.
        #expect(digest.text.contains("(LinkedIn neemt geen tekst over"), "\(digest.text)")
    }

    @Test("a title cannot end an attribute with a combining mark after its quote, nor open a personal slot")
    func hostileTitles() throws {
        let hostile = [
            ContentItem(
                id: 1, url: "https://acme.example/zon", title: "Launch\"\u{301} style=width:4000px \u{E000}4\u{E001}",
                summary: "Stroom", imageURL: "https://acme.example/z.jpg", weeks: [week],
                texts: [.init(text: "Tekst \u{E000}2\u{E001}")])
        ]
        let digest = try #require(try renderer().render(for: person(1), weekItems: hostile, week: week))
        // Escaped by bytes: the quote is &quot; with its mark after it, never a bare quote that ends alt="…".
        let escaped = "alt=\"Launch&quot;\u{301} style=width:4000px 4\""
        let bare = "Launch\"\u{301}"
        #expect(digest.html.contains(escaped), "\(digest.html)")
        #expect(!digest.html.contains(bare))
        // The markers are gone from the content: no slot opens in the title, the subject or the text.
        #expect(!digest.subject.contains("/u/") && !digest.text.contains("Tekst https"), "\(digest.subject)")
        #expect(!digest.html.contains("\u{E000}") && !digest.subject.contains("\u{E001}"))
    }

    @Test("the web pages escape by bytes too: a quote with a combining mark after it cannot end an attribute")
    func hostilePageValues() throws {
        let pages = try PageRenderer.load(directory: packageRoot.appendingPathComponent("Templates"))
        let hostile = "Launch\"\u{301} onmouseover=x"
        let page = pages.render(
            template: "page.html",
            context: ["lang": "en", "title": hostile, "message": "m", "csrfForm": ["csrf": hostile, "button": "b"]])
        let escaped = "value=\"Launch&quot;\u{301} onmouseover=x\""
        let bare = "Launch\"\u{301}"
        #expect(page.contains(escaped), "\(page)")
        #expect(!page.contains(bare))
    }

    @Test("names are escaped in HTML and kept as they are in text")
    func escaping() throws {
        let digest = try #require(
            try renderer().render(for: person(2, name: "<b>Bob</b> Jansen"), weekItems: items, week: week))
        #expect(digest.html.contains("Hoi &lt;b&gt;Bob&lt;/b&gt;,"))
        #expect(digest.text.hasPrefix("Hoi <b>Bob</b>,"))
    }

    @Test("English ambassadors get English; no copy block without LinkedIn or Facebook")
    func english() throws {
        let digest = try #require(
            try renderer().render(for: person(3, language: .en, networks: [.whatsapp]), weekItems: items, week: week))
        #expect(digest.html.contains("<html lang=\"en\""))
        #expect(digest.text.hasPrefix("Hi Zoë,"))
        #expect(digest.text.contains("Send via WhatsApp:\nhttps://wa.me/?text="))
        #expect(!digest.html.contains("pre-filled text"))
    }

    @Test("colleagues in one group share one template render but get their own texts and links")
    func groups() throws {
        let renderer = try renderer()
        let digests = (1...50).compactMap { renderer.render(for: person(Int64($0)), weekItems: items, week: week) }
        #expect(digests.count == 50)
        #expect(renderer.groupCount == 1)
        #expect(digests[0].text.contains("Tekst een") && digests[1].text.contains("Tekst twee"))
        #expect(Set(digests.map(\.html)).count == 50, "unsubscribe links are personal")
    }

    @Test("no content for the ambassador means no digest")
    func empty() throws {
        var themed = person(4)
        themed.themes = ["golf"]
        let item = ContentItem(id: 9, url: "https://x.nl", title: "T", theme: "zon", weeks: [week])
        #expect(try renderer().render(for: themed, weekItems: [item], week: week) == nil)
        #expect(try renderer().render(for: person(5), weekItems: [], week: week) == nil)
    }

    @Test("a broken template is reported with its file and line")
    func brokenTemplate() throws {
        let directory = try TempDirectory()
        for name in TemplateSet.required {
            try directory.write("\(name).mustache", "ok")
        }
        try directory.write("strings/nl.json", "{}")
        try directory.write("item.html.mustache", "line one\n{{#items}}unclosed")
        do {
            _ = try TemplateSet.load(directory: directory.url)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("item.html.mustache line"))
        }
    }

    @Test("a page template that is missing or broken is reported with its file")
    func pageTemplates() throws {
        let directory = try TempDirectory()
        #expect(throws: TemplateError.self) { try PageRenderer.load(directory: directory.url) }
        do {
            _ = try PageRenderer.load(directory: directory.url)
        } catch {
            #expect("\(error)" == "cannot read \(directory.path("page.html.mustache"))")
        }
        try directory.write("page.html.mustache", "<p>{{#open}}unclosed")
        do {
            _ = try PageRenderer.load(directory: directory.url)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".hasPrefix("\(directory.path("page.html.mustache")) is not a valid template: "))
        }
    }
}

@Suite("Group rendering is only an optimisation")
struct DigestEquivalenceTests {
    @Test("filling a group skeleton gives exactly what rendering each ambassador through Mustache gives")
    func sameOutput() throws {
        let base = DigestRendererTests()
        let renderer = try base.renderer()
        let week = base.week
        var items = base.items
        items.append(
            ContentItem(
                id: 2, url: "https://acme.example/b?x=1&y=2", title: "Tweede <item>", summary: "", weeks: [week],
                texts: [.init(text: "Één \"quote\" & 'apostrof'"), .init(network: .x, text: "Alleen X #tag")]))
        let people = [
            base.person(7, name: "Zoë d'Hondt", networks: Network.allCases),
            base.person(8, name: "<script>alert(1)</script>", language: .en, networks: [.x, .email]),
            base.person(9, name: "", networks: [.facebook]),
        ]
        for person in people {
            let fast = try #require(renderer.render(for: person, weekItems: items, week: week))
            let slow = try #require(renderer.renderDirectly(for: person, weekItems: items, week: week))
            #expect(fast.html == slow.html)
            #expect(fast.text == slow.text)
            #expect(fast.subject == slow.subject)
        }
    }

    @Test("at most digest.maxItems items, the rest behind a link to the site; brand and disclosure from config")
    func capAndBrand() throws {
        let directory = try TempDirectory()
        let context = try makeContext(
            in: directory,
            config: """
                {"databasePath": "data/test.sqlite", "publicBaseURL": "https://go.acme.example",
                 "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
                 "digest": {"maxItems": 2, "moreURL": "https://acme.example/nieuws", "accentColor": "#8a1538",
                            "logoURL": "https://acme.example/logo.png", "disclosure": {"nl": "#medewerker"}}}
                """)
        let renderer = try context.makeComposer().renderer
        let many = (1...5).map { index in
            ContentItem(
                id: Int64(index), url: "https://acme.example/\(index)", title: "Bericht \(index)",
                weeks: [DigestRendererTests().week],
                texts: [.init(text: "Tekst \(index)")])
        }
        let base = DigestRendererTests()
        let digest = try #require(renderer.render(for: base.person(1), weekItems: many, week: base.week))
        #expect(digest.html.contains("Bericht 2") && !digest.html.contains("Bericht 3"))
        #expect(
            digest.html.contains("href=\"https://acme.example/nieuws\"")
                && digest.html.contains("Nog 3 berichten deze week"))
        #expect(digest.text.contains("Nog 3 berichten deze week: https://acme.example/nieuws"))
        #expect(digest.html.contains("src=\"https://acme.example/logo.png\"") && digest.html.contains("#8a1538"))
        #expect(digest.text.contains("Tekst 1 #medewerker"), "the disclosure ends the suggested text")

        // Someone whose themes leave exactly two items shares the first two but has nothing cut: no link.
        var themed = many
        for index in 2..<5 { themed[index].theme = "sport" }
        themed[0].theme = "zon"
        themed[1].theme = "zon"
        var fan = base.person(2)
        fan.themes = ["zon"]
        let fanDigest = try #require(renderer.render(for: fan, weekItems: themed, week: base.week))
        #expect(!fanDigest.html.contains("acme.example/nieuws"), "nothing was left out for this person")
        let all = try #require(renderer.render(for: base.person(3), weekItems: themed, week: base.week))
        #expect(all.html.contains("Nog 3 berichten"))
    }
}
