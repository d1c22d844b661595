import AdvocateCore
import Foundation
import Testing

@Suite("Which addresses a fetch may reach, and who a request comes from")
struct FetchRulesTests {
    func bytes(_ text: String) -> [UInt8] { AddressRange.address(text)! }

    @Test(
        "loopback, private, shared, link-local, metadata, multicast and mapped forms are refused",
        arguments: [
            "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
            "169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1",
            "fc12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe", "2002:a9fe:a9fe::1", "2002:7f00:1::", "::a9fe:a9fe", "::ffff:0:a9fe:a9fe",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ])
    func refused(_ address: String) {
        #expect(!AddressPolicy().allows(bytes(address)), "\(address)")
    }

    @Test(
        "public addresses pass",
        arguments: [
            "93.184.216.34", "172.32.0.1", "8.8.8.8", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "2002:808:808::1",
            "64:ff9b::808:808", "2001:4860:4860::8888",
        ])
    func allowed(_ address: String) {
        #expect(AddressPolicy().allows(bytes(address)), "\(address)")
    }

    @Test("a configured range allows exactly that range")
    func configured() throws {
        let policy = AddressPolicy(allowed: [try #require(AddressRange(parsing: "127.0.0.1/32"))])
        #expect(policy.allows(bytes("127.0.0.1")))
        #expect(!policy.allows(bytes("127.0.0.2")))
        #expect(!policy.allows(bytes("::1")))
        #expect(!policy.allows([1, 2, 3]), "an address of an unknown length")
    }

    @Test("parsing and printing addresses and ranges")
    func parsing() {
        #expect(AddressRange(parsing: "10.0.0.0/8")?.contains(bytes("10.200.1.1")) == true)
        #expect(AddressRange(parsing: "10.0.0.0/33") == nil)
        #expect(AddressRange(parsing: "300.0.0.1") == nil)
        #expect(AddressRange(parsing: "1::2::3") == nil)
        #expect(AddressRange(parsing: "fd00::/8")?.contains(bytes("fdab::1")) == true)
        #expect(AddressRange.text(bytes("::1")) == "::1")
        #expect(AddressRange.text(bytes("2001:db8:0:0:1:0:0:1")) == "2001:db8::1:0:0:1")
        #expect(AddressRange.text(bytes("192.0.2.7")) == "192.0.2.7")
    }

    @Test("the client address comes from forwarding headers only through trusted proxies, read from the right")
    func clientAddress() throws {
        let proxies = [
            try #require(AddressRange(parsing: "127.0.0.1/32")), try #require(AddressRange(parsing: "10.0.0.0/8")),
        ]
        let proxy = bytes("127.0.0.1")
        #expect(
            ClientAddress.resolve(
                peer: bytes("203.0.113.9"), forwardedFor: "198.51.100.1", forwarded: nil, trusted: proxies)
                == bytes("203.0.113.9"), "an untrusted peer cannot claim another address")
        #expect(
            ClientAddress.resolve(
                peer: proxy, forwardedFor: "6.6.6.6, 198.51.100.1, 10.1.1.1", forwarded: nil, trusted: proxies)
                == bytes("198.51.100.1"), "the rightmost untrusted hop, not what the client wrote on the left")
        #expect(
            ClientAddress.resolve(
                peer: proxy, forwardedFor: "1.1.1.1",
                forwarded: "for=192.0.2.60;proto=https, for=\"[2001:db8::7]:4711\"",
                trusted: proxies) == bytes("2001:db8::7"), "Forwarded wins over X-Forwarded-For")
        #expect(ClientAddress.resolve(peer: proxy, forwardedFor: "garbage", forwarded: nil, trusted: proxies) == proxy)
        #expect(ClientAddress.resolve(peer: proxy, forwardedFor: nil, forwarded: nil, trusted: proxies) == proxy)
    }
}

@Suite("Page metadata, forms and items in several languages")
struct EditorialRulesTests {
    @Test("OpenGraph before Twitter before plain HTML; relative URLs resolved; long summaries cut at a word")
    func metadata() {
        let page = "https://acme.example/news/a?x=1"
        let all = PageMetadata(
            meta: [
                "og:title": "OG", "twitter:title": "TW", "og:description": "og d", "description": "plain d",
                "og:image": "/i.jpg", "twitter:image": "https://cdn/t.jpg", "og:url": "https://acme.example/news/a",
            ], documentTitle: "Doc", canonicalLink: nil, pageURL: page)
        #expect(all.title == "OG")
        #expect(all.summary == "og d")
        #expect(all.imageURL == "https://acme.example/i.jpg")
        #expect(all.canonicalURL == "https://acme.example/news/a")
        let twitter = PageMetadata(
            meta: ["twitter:title": "TW", "twitter:description": "tw d"], documentTitle: "Doc", canonicalLink: "b",
            pageURL: page)
        #expect(twitter.title == "TW")
        #expect(twitter.summary == "tw d")
        #expect(twitter.canonicalURL == "https://acme.example/news/b")
        let plain = PageMetadata(
            meta: ["og:title": "  ", "description": "plain d"], documentTitle: " Doc\n title ",
            canonicalLink: "javascript:x",
            pageURL: page)
        #expect(plain.title == "Doc title", "an empty og:title does not count")
        #expect(plain.canonicalURL == page, "a non-http canonical link is ignored")
        func canonical(_ link: String?, ogURL: String? = nil) -> String {
            PageMetadata(
                meta: ogURL.map { ["og:url": $0] } ?? [:], documentTitle: "Doc", canonicalLink: link, pageURL: page
            ).canonicalURL
        }
        #expect(canonical("https://www.acme.example/news/a") == "https://www.acme.example/news/a", "www. aside")
        #expect(canonical("https://staging.internal/news/a") == page, "another host is not this page")
        #expect(canonical("https://news.acme.example/a") == "https://news.acme.example/a", "a subdomain is one site")
        #expect(canonical("https://notacme.example/news/a") == page, "a name ending alike is another site")
        #expect(canonical(nil, ogURL: "https://acme.example/") == page, "the home page is not this page")
        #expect(
            canonical("https://evil.example/x", ogURL: "https://acme.example/news/a") == "https://acme.example/news/a")
        let long = String(repeating: "woord ", count: 100)
        let cut = PageMetadata.shortened(long.trimmingCharacters(in: .whitespaces))
        #expect(cut.count <= 301 && cut.hasSuffix("woord…"))
    }

    @Test("form bodies: + and escapes decode, malformed escapes and invalid UTF-8 are refused")
    func urlEncoded() {
        #expect(URLEncodedForm.parse("a=1+2&b=%C3%A9%26&c=&d")! == ["a": "1 2", "b": "é&", "c": "", "d": ""])
        #expect(URLEncodedForm.parse("a=1&a=2")?["a"] == "1")
        #expect(URLEncodedForm.parse("a=%ZZ") == nil)
        #expect(URLEncodedForm.parse("a=%C3") == nil)
        #expect(URLEncodedForm.parse("a=%") == nil)
    }

    @Test("an item survives the editor's form both ways, with texts per network and a variant")
    func itemForm() throws {
        let week = try ISOWeek(parsing: "2026-W50")
        let item = ContentItem(
            url: "https://acme.example/a", title: "Titel", summary: "Samenvatting",
            imageURL: "https://acme.example/i.jpg",
            theme: "tech", weeks: [week],
            texts: [.init(text: "Eerste\nmet twee regels"), .init(text: "Tweede"), .init(network: .x, text: "Kort")],
            language: .nl, prompt: "Wat leerde je?",
            variants: [
                .init(language: .en, title: "Title", prompt: "What did you learn?", texts: [.init(text: "First")])
            ])
        let fields = ItemForm.fields(item)
        #expect(fields["texts.all"] == "Eerste\nmet twee regels\n---\nTweede")
        let rules = ImportRules(
            defaultLanguage: .nl, defaultNetworks: [.x], knownThemes: ["tech"], defaultWeek: week, now: .init())
        guard
            case .success(let back) = ContentImport.item(
                ItemForm.object(fields, defaultLanguage: .nl), line: 0, rules: rules)
        else { Issue.record("the form's own values were refused"); return }
        #expect(back == item)

        var untitled = fields
        untitled["en.title"] = ""
        guard
            case .success(let fallback) = ContentImport.item(
                ItemForm.object(untitled, defaultLanguage: .nl), line: 0, rules: rules)
        else { Issue.record("a variant without its own title was refused"); return }
        #expect(fallback.variants.first?.title == "")
        #expect(fallback.localized(for: .en).title == "Titel", "the main title stands in")
        #expect(fallback.localized(for: .en).prompt == "What did you learn?")
        guard
            case .failure(let problem) = ContentImport.item(
                ["url": "https://acme.example/a", "title": "T", "variants": ["en": ["summary": ""]]], line: 3,
                rules: rules)
        else { Issue.record("an empty variant was accepted"); return }
        #expect(problem.field == "variants.en" && problem.line == 3)
        var draft = fields
        draft["weeks"] = ""
        guard
            case .success(let asDraft) = ContentImport.item(
                ItemForm.object(draft, defaultLanguage: .nl), line: 0, rules: rules)
        else { Issue.record("a draft was refused"); return }
        #expect(asDraft.weeks.isEmpty)
    }

    @Test("a reader gets their language's title, summary, prompt and texts, and the main language where it has none")
    func localized() throws {
        let item = ContentItem(
            id: 7, url: "https://acme.example/a", title: "Titel", summary: "Samenvatting", weeks: [],
            texts: [.init(text: "Nederlands")], language: .nl, prompt: "Vraag?",
            variants: [.init(language: .en, title: "Title", texts: [.init(network: .x, text: "English on X")])])
        let english = item.localized(for: .en)
        #expect(english.title == "Title")
        #expect(english.summary == "Samenvatting", "no English summary: the main one")
        #expect(english.prompt == "Vraag?")
        #expect(DigestSelection.text(for: english, network: .x, ambassadorID: 1) == "English on X")
        #expect(item.localized(for: .nl) == item)
        let eva = Ambassador(
            id: 1, email: "eva@acme.example", name: "Eva", language: .en, networks: [.x], joinedAt: .init())
        #expect(DigestSelection.items([item], for: eva).first?.title == "Title")
    }
}
