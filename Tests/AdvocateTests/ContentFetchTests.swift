import AdvocateCore
import Foundation
import Testing

@Suite("Content from a URL and from feeds, fetched from a real local web server", .serialized)
struct ContentFetchTests {
    /// A folder whose config allows fetching from 127.0.0.1 only, with the web server's feeds.
    func prepare(allow: String = "\"127.0.0.1/32\"") throws -> (TempDirectory, WebServerProcess) {
        let directory = try TempDirectory()
        let web = try WebServerProcess(directory: directory.url.appendingPathComponent("web"))
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "fetch": {"allowAddresses": [\(allow)]},
             "plan": {"themes": ["nieuws", "tech"]},
             "feeds": [{"url": "\(web.base)/rss.xml", "theme": "nieuws"},
                       {"url": "\(web.base)/atom.xml", "language": "en", "theme": "tech", "schedule": "draft"},
                       {"url": "\(web.base)/broken.xml"},
                       {"url": "\(web.base)/etag.xml"}]}
            """)
        return (directory, web)
    }

    func items(_ directory: TempDirectory) throws -> [[String: Any]] {
        let list = try advocate(["content", "list", "--json"], in: directory.url)
        return try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    }

    func add(_ url: String, _ directory: TempDirectory, _ extra: [String] = []) throws -> CommandResult {
        try advocate(["content", "add", url, "--json"] + extra, in: directory.url)
    }

    @Test("OpenGraph, Twitter card, plain HTML and two non-UTF-8 pages give the right title, summary, image and URL")
    func pages() throws {
        let (directory, web) = try prepare()
        let cases: [(path: String, url: String, title: String, summary: String?, image: String?)] = [
            (
                "/og.html", "\(web.base)/nieuws/zonnepark-delfzijl",
                "Zonnepark Delfzijl levert stroom aan 12.000 huishoudens",
                "Het nieuwe zonnepark van Acme draait sinds maandag op volle kracht – een mijlpaal.",
                "\(web.base)/images/zonnepark.jpg"
            ),
            (
                "/twitter.html", "\(web.base)/twitter.html", "We are hiring: twenty field engineers",
                "Join the team that keeps the grid running.", "https://cdn.acme.example/jobs.jpg"
            ),
            (
                "/plain.html", "\(web.base)/blog/klantdag-2026", "Klantdag 2026: wat we hoorden",
                "Verslag van de klantdag in Utrecht.", nil
            ),
            (
                "/latin1-header.html", "\(web.base)/latin1-header.html", "Café – € 5 korting voor naïeve klanten", nil,
                nil
            ),
            ("/latin1-meta.html", "\(web.base)/latin1-meta.html", "Geïnteresseerd in één dag bij ons?", nil, nil),
        ]
        for page in cases {
            let result = try add(web.base + page.path, directory)
            #expect(result.status == 0, "\(page.path): \(result.stderr)")
            let item = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(item["url"] as? String == page.url, "\(page.path)")
            #expect(item["title"] as? String == page.title, "\(page.path)")
            #expect((item["summary"] as? String).flatMap { $0.isEmpty ? nil : $0 } == page.summary, "\(page.path)")
            #expect(item["imageURL"] as? String == page.image, "\(page.path)")
        }
        #expect(try items(directory).count == cases.count)
    }

    @Test("flags override fetched fields; a redirect chain of 5 is followed, 6 is not")
    func overridesAndRedirects() throws {
        let (directory, web) = try prepare()
        let result = try add(
            "\(web.base)/redirect/5", directory,
            ["--fetch", "--title", "Eigen titel", "--summary", "Eigen samenvatting", "--week", "2026-W50"])
        #expect(result.status == 0, "\(result.stderr)")
        let item = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(item["title"] as? String == "Eigen titel")
        #expect(item["summary"] as? String == "Eigen samenvatting")
        #expect(item["imageURL"] as? String == "\(web.base)/images/zonnepark.jpg", "fields not given are fetched")
        #expect(item["url"] as? String == "\(web.base)/nieuws/zonnepark-delfzijl")
        #expect(web.requests().filter { $0.hasPrefix("GET /redirect/") }.count == 5)

        let tooMany = try add("\(web.base)/redirect/6", directory)
        #expect(tooMany.status == 1)
        #expect(tooMany.stderr.contains("cannot fetch \(web.base)/redirect/6: more than 5 redirects"))
    }

    @Test("pages that cannot be used are clear errors naming the URL and the reason, and add nothing")
    func refusals() throws {
        let (directory, web) = try prepare()
        let cases: [(url: String, reason: String)] = [
            ("\(web.base)/big.html", "larger than 2000000 bytes"),
            ("\(web.base)/notitle.html", "the page has no title"),
            ("\(web.base)/missing", "the server answered 404"),
            ("\(web.base)/image.png", "not an HTML page (image/png)"),
            ("\(web.base)/away?to=http://127.0.0.2:\(web.port)/og.html", "127.0.0.2 is not a public address"),
            ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is not a public address"),
            ("http://10.0.0.1/", "10.0.0.1 is not a public address"),
            ("http://[::1]:\(web.port)/og.html", "::1 is not a public address"),
            ("ftp://127.0.0.1/file", "not an absolute http(s) URL"),
        ]
        for (url, reason) in cases {
            let result = try add(url, directory)
            #expect(result.status == 1, "\(url)")
            #expect(result.stderr.contains("cannot fetch \(url): \(reason)"), "\(url): \(result.stderr)")
        }
        #expect(web.requests().contains { $0.hasPrefix("GET /away") }, "the first hop was fetched")
        #expect(
            !web.requests().contains { $0.hasPrefix("GET /og.html") }, "the redirect to 127.0.0.2 was never followed")
        #expect(try items(directory).isEmpty)
    }

    @Test("without an explicit allowance, loopback is refused too")
    func loopbackRefusedByDefault() throws {
        let (directory, web) = try prepare(allow: "")
        let result = try add("\(web.base)/og.html", directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("127.0.0.1 is not a public address"))
        #expect(web.requests().isEmpty, "no connection was made at all")
    }

    @Test(
        "RSS 2.0 and Atom load (the first fetch as drafts), a broken feed is reported, a rerun adds nothing and costs one 304"
    )
    func feeds() throws {
        let (directory, web) = try prepare()
        let first = try advocate(["content", "fetch"], in: directory.url)
        #expect(first.status == 3, "one broken feed: \(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("\(web.base)/rss.xml: first fetch, 2 entries added as drafts"))
        #expect(first.stdout.contains("\(web.base)/atom.xml: first fetch, 2 entries added as drafts"))
        #expect(first.stdout.contains("\(web.base)/etag.xml: first fetch, 1 entries added as drafts"))
        #expect(first.stderr.contains("\(web.base)/broken.xml: not an RSS 2.0 or Atom feed"))

        let stored = try items(directory)
        #expect(stored.count == 5)
        #expect(
            stored.allSatisfy { ($0["weeks"] as? [String])?.isEmpty == true },
            "a feed's back catalogue is never mailed unasked")
        let byTitle = Dictionary(uniqueKeysWithValues: stored.map { ($0["title"] as! String, $0) })
        let windpark = try #require(byTitle["Windpark op zee: eerste turbine staat"])
        #expect(windpark["url"] as? String == "\(web.base)/nieuws/windpark")
        #expect(windpark["summary"] as? String == "De eerste turbine van ons windpark staat.", "HTML stripped")
        #expect(windpark["imageURL"] as? String == "\(web.base)/images/windpark.jpg")
        #expect(windpark["theme"] as? String == "nieuws")
        let ceo = try #require(byTitle["Nieuwe CEO benoemd"])
        #expect(ceo["summary"] as? String == "Onze nieuwe CEO begint 1 januari.")
        let meters = try #require(byTitle["Hoe we slimme meters testen"], "Atom's HTML title is read as text")
        #expect(meters["url"] as? String == "\(web.base)/eng/slimme-meters", "relative link resolved")
        #expect(meters["imageURL"] as? String == "\(web.base)/eng/meter.png")
        #expect(meters["language"] as? String == "en")
        #expect(byTitle["Open source bij Acme"]?["summary"] as? String == "Wat we teruggeven.")

        let second = try advocate(["content", "fetch"], in: directory.url)
        #expect(second.status == 3)
        #expect(second.stdout.contains("\(web.base)/rss.xml: 0 new of 2"))
        #expect(second.stdout.contains("\(web.base)/etag.xml: unchanged"))
        #expect(web.requests().last { $0.hasPrefix("GET /etag.xml") } == "GET /etag.xml 304 \"v1-blog\"")
        #expect(try items(directory).count == 5)

        // New entries later: exactly those are added, into next week (the feed's schedule); one published long ago
        // (a site that changed its links republishes its back catalogue) and new to Advocate becomes a draft.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let recent = formatter.string(from: Date().addingTimeInterval(-2 * 86_400))
        try """
        acme-news-1002\t\(web.base)/nieuws/nieuw\tNieuw bericht\t\(recent)
        acme-news-0007\t\(web.base)/nieuws/oud\tOud bericht\tTue, 03 Mar 2020 10:00:00 GMT

        """.write(to: web.directory.appendingPathComponent("rss-extra"), atomically: true, encoding: .utf8)
        let third = try advocate(["content", "fetch", "--json"], in: directory.url)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(third.stdout.utf8)) as? [[String: Any]])
        #expect(reports.first { $0["url"] as? String == "\(web.base)/rss.xml" }?["added"] as? Int == 2)
        let added = try items(directory).first { $0["title"] as? String == "Nieuw bericht" }
        let next = ISOWeek(containing: Date(), in: TimeZone(identifier: "Europe/Amsterdam")!).next
        #expect(added?["weeks"] as? [String] == [next.description])
        let old = try items(directory).first { $0["title"] as? String == "Oud bericht" }
        #expect(old?["weeks"] as? [String] == [], "\(old ?? [:])")
        let history = try advocate(["content", "history", "--json"], in: directory.url)
        #expect(history.stdout.contains("\"editor\" : \"feed\""))
    }
}
