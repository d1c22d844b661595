import AdvocateCore
import Foundation
import Testing

@Suite("Digest selection, share intents and skeletons")
struct DigestSelectionTests {
    let week = try! ISOWeek(parsing: "2026-W49")

    func ambassador(_ id: Int64, themes: [String] = []) -> Ambassador {
        Ambassador(
            id: id, email: "a\(id)@x.nl", name: "A", language: .nl, themes: themes, networks: [.x],
            joinedAt: Date(timeIntervalSince1970: 0))
    }

    @Test("items follow the ambassador's themes; no themes means everything")
    func themes() {
        let items = [
            ContentItem(id: 1, url: "https://x.nl/1", title: "1", theme: "zon", weeks: [week]),
            ContentItem(id: 2, url: "https://x.nl/2", title: "2", theme: "werk", weeks: [week]),
            ContentItem(id: 3, url: "https://x.nl/3", title: "3", weeks: [week]),
        ]
        #expect(DigestSelection.items(items, for: ambassador(1, themes: ["zon"])).map(\.id) == [1, 3])
        #expect(DigestSelection.items(items, for: ambassador(1)).map(\.id) == [1, 2, 3])
        #expect(DigestSelection.items(items, for: ambassador(1, themes: ["golf"])).map(\.id) == [3])
    }

    @Test("suggested texts rotate per ambassador, deterministically, and network texts win for their network")
    func rotation() {
        let item = ContentItem(
            id: 5, url: "https://x.nl", title: "T", weeks: [week],
            texts: [.init(text: "A"), .init(text: "B"), .init(text: "C"), .init(network: .x, text: "X only")])
        let picks = (1...6).map { DigestSelection.text(for: item, ambassadorID: $0) }
        #expect(Set(picks) == ["A", "B", "C"], "colleagues get different texts")
        #expect(picks[0] != picks[1])
        #expect(picks == (1...6).map { DigestSelection.text(for: item, ambassadorID: $0) }, "the same every time")
        #expect(DigestSelection.text(for: item, network: .x, ambassadorID: 1) == "X only")
        #expect(DigestSelection.text(for: item, network: .whatsapp, ambassadorID: 1) == picks[0])
    }

    @Test("percent-encoding leaves only the unreserved characters, byte by byte, in upper-case hex")
    func percentEncoding() {
        #expect(ShareIntent.percentEncode("") == "")
        #expect(ShareIntent.percentEncode("Az09-._~") == "Az09-._~")
        #expect(ShareIntent.percentEncode("a b&c=d#e/f?g+h%") == "a%20b%26c%3Dd%23e%2Ff%3Fg%2Bh%25")
        #expect(ShareIntent.percentEncode("Zoë 🚀\n") == "Zo%C3%AB%20%F0%9F%9A%80%0A")
        #expect(ShareIntent.percentEncode("\u{7F}\u{1}") == "%7F%01")
    }

    @Test("share intents are percent-encoded and point at the right dialogs", arguments: Network.allCases)
    func intents(network: Network) throws {
        let text = "Zoë's zon & wind #groen 🚀"
        let url = "https://acme.example/a?b=1&c=2#top"
        let intent = ShareIntent.url(for: network, text: text, url: url, subject: "Titel é")
        let components = try #require(URLComponents(string: intent))
        let query = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        switch network {
        case .linkedin:
            #expect(intent.hasPrefix("https://www.linkedin.com/sharing/share-offsite/?url=") && query["url"] == url)
        case .x:
            #expect(intent.hasPrefix("https://x.com/intent/tweet?") && query["text"] == text && query["url"] == url)
        case .facebook: #expect(intent.hasPrefix("https://www.facebook.com/sharer/sharer.php?") && query["u"] == url)
        case .whatsapp: #expect(intent.hasPrefix("https://wa.me/?") && query["text"] == "\(text) \(url)")
        case .bluesky:
            #expect(intent.hasPrefix("https://bsky.app/intent/compose?") && query["text"] == "\(text) \(url)")
        case .threads:
            #expect(
                intent.hasPrefix("https://www.threads.com/intent/post?") && query["text"] == text && query["url"] == url
            )
        case .telegram:
            #expect(intent.hasPrefix("https://t.me/share/url?") && query["url"] == url && query["text"] == text)
        case .mastodon:
            #expect(intent.hasPrefix("https://share.joinmastodon.org/?") && query["text"] == "\(text) \(url)")
        case .email:
            #expect(
                intent.hasPrefix("mailto:?") && query["subject"] == "Titel é" && query["body"] == "\(text)\n\n\(url)")
        }
        #expect(!intent.contains(" ") && !intent.contains("#") && !intent.contains("é"))
    }

    @Test("a skeleton fills its slots and keeps text that only looks like a marker")
    func skeleton() {
        let rendered = "Hoi \(Skeleton.marker(0)), zie \(Skeleton.marker(12)) en \u{E000}x\u{E001} \u{E000}7"
        let skeleton = Skeleton(rendered: rendered)
        #expect(skeleton.slots == [0, 12])
        var values = Array(repeating: "", count: 13)
        values[0] = "Zoë"
        values[12] = "https://x.nl"
        #expect(skeleton.fill(values) == "Hoi Zoë, zie https://x.nl en \u{E000}x\u{E001} \u{E000}7")
    }
}
