import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("Feed documents through libxml2: texts as their type says, clear reasons, no entity expansion")
struct FeedParsingTests {
    func entries(_ xml: String) throws(MarkupParser.FeedProblem) -> [FeedEntry] {
        try MarkupParser.feedEntries(xml: Array(xml.utf8), feedURL: "https://acme.example/feed.xml")
    }

    @Test("an Atom text is plain text unless its type is html; an RSS title may hold HTML")
    func textTypes() throws {
        let atom = try entries(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
            <entry><title>Using &lt;canvas&gt; today: Q&amp;amp;A</title><link href="/a"/><id>a</id>
            <summary type="text">1 &lt; 2</summary></entry>
            <entry><title type="html">Hoe we &lt;em&gt;meten&lt;/em&gt;</title><link href="/b"/><id>b</id>
            <content type="html">&lt;p&gt;Wat we &lt;b&gt;teruggeven&lt;/b&gt;.&lt;/p&gt;</content></entry>
            </feed>
            """)
        #expect(atom.map(\.title) == ["Using <canvas> today: Q&amp;A", "Hoe we meten"])
        #expect(atom.map(\.summary) == ["1 < 2", "Wat we teruggeven."])
        #expect(atom.first?.url == "https://acme.example/a")
        let rss = try entries(
            """
            <rss version="2.0"><channel><item><title>Nieuw: &lt;b&gt;zon&lt;/b&gt;</title>
            <link>https://acme.example/zon</link></item></channel></rss>
            """)
        #expect(rss.map(\.title) == ["Nieuw: zon"])
    }

    @Test("entities declared in the feed are refused; broken XML says where; another root is named")
    func refusals() {
        // A billion-laughs style document without the shared expansion libxml2 catches: one big entity used often.
        let big = String(repeating: "x", count: 10_000)
        let uses = String(repeating: "&big;", count: 10_000)
        let bomb = """
            <?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "\(big)">]>
            <rss version="2.0"><channel><item><title>t</title><link>https://acme.example/a</link>
            <description>\(uses)</description></item></channel></rss>
            """
        #expect {
            try entries(bomb)
        } throws: { error in
            "\(error)".contains("declares XML entities of its own")
        }
        #expect {
            try entries("<?xml version='1.0'?>\n<rss><channel>\n<item><title>cut off")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("not an RSS 2.0 or Atom feed: not well-formed XML (line 3: ") && text.count > 60
        }
        #expect {
            try entries("<html><body>not a feed</body></html>")
        } throws: { error in
            "\(error)" == "not an RSS 2.0 or Atom feed: its root element is <html>"
        }
        // An external DTD (RSS 0.91's) declares nothing here and is never fetched: the feed reads.
        let old = try? entries(
            """
            <?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
             "http://my.netscape.com/publish/formats/rss-0.91.dtd">
            <rss version="0.91"><channel><item><title>Oud</title><link>https://acme.example/oud</link></item>
            </channel></rss>
            """)
        #expect(old?.map(\.title) == ["Oud"])
    }

    @Test("dates: RSS's RFC 822 (zone names, no weekday, no seconds) and Atom's RFC 3339; published before updated")
    func dates() throws {
        let moment = Date(timeIntervalSince1970: 1_796_203_800)  // 2026-12-02T09:30:00Z
        for text in [
            "Wed, 02 Dec 2026 09:30:00 GMT", "Wed, 02 Dec 2026 10:30:00 +0100", "2 Dec 2026 09:30:00 +0000",
            "Wed, 02 Dec 2026 04:30:00 EST", "Wed, 02 Dec 2026 09:30 GMT", " 2026-12-02T09:30:00Z ",
            "2026-12-02T10:30:00.000+01:00",
        ] {
            #expect(FeedDate.parse(text) == moment, "\(text)")
        }
        #expect(FeedDate.parse("Wed, 02 Dec 26 09:30:00 GMT") == moment, "a two-digit year")
        #expect(FeedDate.parse("yesterday") == nil)
        #expect(FeedDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == nil, "a feed's zero date is no date")
        let atom = try entries(
            """
            <feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
            <entry><title>a</title><link href="/a"/><id>a</id><updated>2027-01-01T00:00:00Z</updated>
            <published>2026-12-02T09:30:00Z</published></entry>
            <entry><title>b</title><link href="/b"/><id>b</id><updated>2026-12-02T09:30:00Z</updated></entry>
            <entry><title>c</title><link href="/c"/><id>c</id></entry></feed>
            """)
        #expect(atom.map(\.published) == [moment, moment, nil])
    }
}
