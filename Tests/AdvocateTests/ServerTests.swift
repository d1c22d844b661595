import Advocate
import AdvocateCore
import Foundation
import Testing

/// `advocate serve` running as a real process on a free loopback port.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let baseURL: String

    init(directory: URL, environment extra: [String: String] = [:]) throws {
        process.executableURL = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["ADVOCATE_BIN"]
                ?? packageRoot.appendingPathComponent(".build/debug/advocate").path)
        process.arguments = ["serve"]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging([
            "ADVOCATE_LINK_KEYS": testLinkKeys, "LOG_LEVEL": "warning",
        ]) { $1 }.merging(extra) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let text = firstLine(of: output)
        guard let range = text.range(of: "http://") else {
            process.terminate()
            throw SMTPServerError(description: "advocate serve did not start: \(text)")
        }
        baseURL = String(text[range.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server with SIGTERM and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.interrupt() } }
}

/// A real HTTP request with curl: status and Location, redirects not followed.
func http(
    _ url: String, method: String = "GET", agent: String? = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    body: String? = nil, headers: [String] = []
) throws -> (status: Int, location: String, body: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    var arguments = ["-s", "-w", "\n%{http_code}\n%{redirect_url}", "-A", agent ?? ""]
    if method == "HEAD" { arguments.append("-I") } else { arguments += ["-X", method] }
    if let body { arguments += ["--data-raw", body] }
    for header in headers { arguments += ["-H", header] }
    process.arguments = arguments + [url]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
    let location = lines.removeLast()
    let status = Int(lines.removeLast()) ?? 0
    return (status, location, lines.joined(separator: "\n"))
}

@Suite("The click server over real HTTP", .serialized)
struct ServerTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))
    let publicBase = "https://go.acme.example"
    let itemURL = "https://acme.example/nieuws/zon?ref=site&x=a%20b#lees-meer"

    struct Fixture {
        var directory: TempDirectory
        var server: ServerProcess
        var database: AppDatabase
        var zoe: Ambassador
        var item: ContentItem
    }

    func start() throws -> Fixture {
        let directory = try TempDirectory()
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "\(publicBase)",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0}}
            """)
        try directory.write("people.csv", "email,name,language,themes,networks\nzoe@example.org,Zoë,en,,x\n")
        try directory.write(
            "content.json",
            """
            [{"url": "\(itemURL)", "title": "Zon & wind: 4.000 huizen", "week": "2026-W49",
              "texts": ["Trots op ons team & de buurt! #groen ☀️", "Twee jaar bouwen"],
              "summary": "s"}]
            """)
        _ = try advocate(["ambassadors", "import", "people.csv"], in: directory.url)
        _ = try advocate(["content", "import", "content.json"], in: directory.url)
        let database = try AppDatabase.open(at: directory.url.appendingPathComponent("data/advocate.sqlite"))
        let server = try ServerProcess(directory: directory.url)
        return Fixture(
            directory: directory, server: server, database: database,
            zoe: try #require(try database.ambassador(email: "zoe@example.org")),
            item: try #require(try database.contentItems().first))
    }

    func shareURL(_ fixture: Fixture, _ network: Network, ambassador: Int64? = nil) -> String {
        let token = LinkToken(
            kind: .share, ambassadorID: ambassador ?? fixture.zoe.id!, itemID: fixture.item.id!, network: network,
            week: week)
        return "\(fixture.server.baseURL)/s/\(sealer.seal(token))"
    }

    @Test("every network's share redirect is exactly right, and the post's link counts visits with UTM tags")
    func redirects() throws {
        let fixture = try start()
        defer { fixture.server.stop() }
        let links = TrackedShareLinks(baseURL: publicBase, sealer: sealer)
        for network in Network.allCases {
            let response = try http(shareURL(fixture, network))
            #expect(response.status == 302, "\(network)")
            let visit = links.visit(
                itemID: fixture.item.id!, network: network, ambassadorID: fixture.zoe.id!, week: week)
            let text = DigestSelection.text(for: fixture.item, network: network, ambassadorID: fixture.zoe.id!)
            #expect(
                response.location == ShareIntent.url(for: network, text: text, url: visit, subject: fixture.item.title))
            let query = URLComponents(string: response.location)?.queryItems ?? []
            let values = query.compactMap(\.value).joined(separator: " ")
            #expect(values.contains(visit), "\(network): the post links to the tracked visit link")
            if network.prefillsText { #expect(values.contains(text)) }
        }
        let counts = try fixture.database.clickCounts()
        #expect(
            counts.filter { $0.key.hasPrefix("share/") }.values.reduce(0, +) == Network.allCases.count,
            "every 302 was preceded by a committed click")
        #expect(
            counts["share/scanner"] == Network.allCases.count, "nine links of one mail in a burst, the first one too")

        let visitToken = sealer.seal(
            LinkToken(
                kind: .visit, ambassadorID: fixture.zoe.id!, itemID: fixture.item.id!, network: .linkedin, week: week))
        let visit = try http("\(fixture.server.baseURL)/l/\(visitToken)")
        #expect(visit.status == 302)
        let target = try #require(URLComponents(string: visit.location))
        #expect(target.host == "acme.example" && target.path == "/nieuws/zon")
        #expect(target.fragment == "lees-meer")
        #expect(
            target.percentEncodedQuery
                == "ref=site&x=a%20b&utm_source=linkedin&utm_medium=employee-advocacy&utm_campaign=2026-W49")
        #expect(try fixture.database.clickCounts()["visit/human"] == 1)
        #expect(fixture.server.stop() == 0, "SIGTERM drains and exits cleanly")
    }

    @Test("random, truncated, tampered, other-key and wrong-kind tokens get the same 404 and record nothing")
    func badTokens() throws {
        let fixture = try start()
        defer { fixture.server.stop() }
        let good = sealer.seal(
            LinkToken(kind: .share, ambassadorID: fixture.zoe.id!, itemID: fixture.item.id!, network: .x, week: week))
        var flipped = Base64URL.decode(good)!
        flipped[9] ^= 0x10
        let otherKey = LinkSealer(keyring: try LinkKeyring(parsing: LinkKeyring.generateEntry(id: 1))).seal(
            LinkToken(kind: .share, ambassadorID: fixture.zoe.id!, itemID: fixture.item.id!, network: .x, week: week))
        let visitToken = sealer.seal(
            LinkToken(kind: .visit, ambassadorID: fixture.zoe.id!, itemID: fixture.item.id!, network: .x, week: week))
        let noItem = sealer.seal(LinkToken(kind: .share, ambassadorID: 1, itemID: 999, network: .x, week: week))
        let bad = [
            "/s/AAAAAAAAAAAAAAAAAAAAAAA", "/s/\(good.dropLast())", "/s/\(Base64URL.encode(flipped))", "/s/\(otherKey)",
            "/s/\(visitToken)", "/s/\(noItem)", "/l/\(good)", "/s/\(good)%2F..%2F",
            "/s/" + String(repeating: "A", count: 600),
        ]
        var pages = Set<String>()
        for path in bad {
            let response = try http(fixture.server.baseURL + path)
            #expect([404, 414].contains(response.status), "\(path)")
            #expect(response.location.isEmpty, "no redirect for \(path)")
            if response.status == 404 { pages.insert(response.body) }
        }
        #expect(pages.count == 1, "the same plain page for every bad link")
        #expect(try fixture.database.clickCounts().isEmpty)
    }

    @Test("HEAD, crawlers, scanners and the honeypot are recorded as such")
    func classification() throws {
        let fixture = try start()
        defer { fixture.server.stop() }
        #expect(try http(shareURL(fixture, .x), method: "HEAD").status == 302)
        #expect(
            try http(shareURL(fixture, .linkedin), agent: "LinkedInBot/1.0 (compatible; Mozilla/5.0)").status == 302)
        #expect(try http(shareURL(fixture, .bluesky), agent: nil).status == 302)
        #expect(try http(shareURL(fixture, .email), agent: "Mozilla/5.0 HeadlessChrome/120").status == 302)
        let counts = try fixture.database.clickCounts()
        #expect(counts["share/scanner"] == 3)
        #expect(counts["share/crawler"] == 1)
        #expect(counts["share/human"] == nil)

        // A person clicks; a scanner then follows the hidden honeypot and another link within a second.
        Thread.sleep(forTimeInterval: 5)
        #expect(try http(shareURL(fixture, .whatsapp)).status == 302)
        let trap = sealer.seal(LinkToken(kind: .trap, ambassadorID: fixture.zoe.id!, week: week))
        #expect(try http("\(fixture.server.baseURL)/t/\(trap)").status == 200)
        let after = try fixture.database.clickCounts()
        #expect(after["trap/scanner"] == 1)
        #expect(after["share/human"] == nil, "the honeypot marks the mail's hits around it as scanner hits")
    }

    @Test("one-click POST unsubscribes, GET only shows a confirm page, and re-subscribing works")
    func unsubscribe() throws {
        let fixture = try start()
        defer { fixture.server.stop() }
        let url =
            "\(fixture.server.baseURL)/u/\(sealer.seal(LinkToken(kind: .unsubscribe, ambassadorID: fixture.zoe.id!, week: week)))"
        let page = try http(url)
        #expect(page.status == 200)
        #expect(page.body.contains("<form method=\"post\">") && page.body.contains("Yes, unsubscribe me"))
        #expect(try fixture.database.ambassador(email: "zoe@example.org")?.status == .active, "GET changes nothing")

        let post = try http(url, method: "POST", body: "List-Unsubscribe=One-Click")
        #expect(post.status == 200)
        #expect(post.body.contains("You are unsubscribed"))
        #expect(try fixture.database.ambassador(email: "zoe@example.org")?.status == .unsubscribed)

        let again = try http(url, method: "POST", body: "action=resubscribe")
        #expect(again.body.contains("Welcome back"))
        #expect(try fixture.database.ambassador(email: "zoe@example.org")?.status == .active)
        #expect(try http(url, method: "POST", body: "nonsense=1").status == 400)
    }

    @Test("an erased ambassador's links still redirect and count anonymously")
    func erased() throws {
        let fixture = try start()
        defer { fixture.server.stop() }
        let link = shareURL(fixture, .x)
        #expect(try advocate(["ambassadors", "remove", "zoe@example.org"], in: fixture.directory.url).status == 0)
        let response = try http(link)
        #expect(response.status == 302)
        #expect(response.location.hasPrefix("https://x.com/intent/tweet?text="))
        #expect(try fixture.database.clickCounts()["share/human"] == 1)
    }
}
