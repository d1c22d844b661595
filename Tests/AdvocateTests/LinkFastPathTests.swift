import AdvocateCore
import Foundation
import NIOHTTP1
import Testing

@testable import Advocate

@Test(
    "the Date header: RFC 9110's IMF-fixdate, the path to link kinds and tokens, headers and Location as the router's")
func fastPathParts() throws {
    #expect(HTTPDateCache.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    #expect(HTTPDateCache.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    #expect(HTTPDateCache.format(1_796_184_000) == "Wed, 02 Dec 2026 04:00:00 GMT")
    #expect(LinkFastPath.link(in: "/s/AbC-_9")?.1 == "AbC-_9")
    #expect(LinkFastPath.link(in: "/l/x")?.0 == .visit)
    #expect(LinkFastPath.link(in: "/t/x")?.0 == .trap)
    // The router's: a query, an escape, another segment, an empty token, another route.
    for path in ["/s/abc?x=1", "/s/a%41", "/s/abc/pressed", "/s/", "/u/abc", "//s/abc", "/s/ab.c"] {
        #expect(LinkFastPath.link(in: path) == nil, "\(path)")
    }
    // Headers read as Swift HTTP Types reads them: lines of one name joined, names in any case.
    var headers = HTTPHeaders([("X-Forwarded-For", "192.0.2.1"), ("x-forwarded-for", "198.51.100.7")])
    headers.add(name: "User-Agent", value: "curl/8")
    #expect(RequestOrigin.field("X-FORWARDED-FOR", in: headers) == "192.0.2.1, 198.51.100.7")
    #expect(RequestOrigin.field("user-agent", in: headers) == "curl/8")
    #expect(RequestOrigin.field("Forwarded", in: headers) == nil)
    // A Location goes out as the router's field would carry it: control characters as spaces, the ends trimmed.
    for location in [
        "https://a.example/x?y=%20z", " https://a.example/x\r\nSet-Cookie: a=b\t", "https://a.example/\u{7F}",
    ] {
        let answer = LinkResponse(status: 302, location: location, html: nil)
        let router = try #require(answer.head(isHead: false).headerFields[.location])
        #expect(answer.http1Head(isHead: false).headers["Location"] == [router], "\(location)")
        #expect(!router.utf8.contains { $0 < 0x20 || $0 == 0x7F } && !router.hasPrefix(" ") && !router.hasSuffix(" "))
    }
}

/// The whole answer to one request: status line, headers but `Date` (in order, as sent) and body.
private func rawAnswer(
    _ url: String, head: Bool = false, keepDate: Bool = false, headers: [String] = []
) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments =
        ["-s", "-i", "-A", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"] + (head ? ["-I"] : [])
        + headers.flatMap { ["-H", $0] } + [url]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n")
        .filter { keepDate || !$0.lowercased().hasPrefix("date:") }.joined(separator: "\n")
}

/// A request with a `Connection` header goes through the router; the same request without it is answered on the
/// event loop.
private let viaRouter = ["Connection: keep-alive"]

@Suite("Links answered on the event loops, as a real process", .serialized)
struct LinkFastPathTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))
    let token = "metrics-token-0123456789"

    /// The counter of link answers given on the event loops, from `/metrics`.
    func fastAnswers(_ server: ServerProcess) throws -> Int { try counter("advocate_link_fast_answers_total", server) }

    /// A counter without labels from `/metrics` (0 before its first count).
    func counter(_ name: String, _ server: ServerProcess) throws -> Int {
        let text = try http("\(server.baseURL)/metrics", headers: ["Authorization: Bearer \(token)"]).body
        let line = text.split(separator: "\n").first { $0.hasPrefix("\(name) ") }
        return line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
    }

    /// A server over one ambassador (Zoë, every network) and one item, with the metrics open to ``token``.
    func start() throws -> (TempDirectory, ServerProcess, AppDatabase, zoe: Int64, item: Int64) {
        let (directory, database) = try serverFolder(
            people: "email,name,language,themes,networks\nzoe@example.org,Zoë,en,,x\n", week: week)
        let server = try ServerProcess(
            directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token, "LOG_LEVEL": "warning"])
        let zoe = try #require(try database.ambassador(email: "zoe@example.org")?.id)
        let item = try #require(try database.contentItems().first?.id)
        return (directory, server, database, zoe, item)
    }

    /// Adds an ambassador who reads English and shares on `network`; returns their id.
    func addPerson(_ name: String, _ network: Network, to database: AppDatabase) throws -> Int64 {
        let person = try database.addAmbassador(
            Ambassador(
                email: "\(name.lowercased())@example.org", name: name, language: .en, networks: [network],
                joinedAt: Date()),
            now: Date())
        return try #require(person.id)
    }

    /// Raw requests over one connection to `server`, in rounds (``Tests/Fixtures/http_rounds.py``): per round, the
    /// answers' status and location (or the body's first two characters), and "closed" if the server closed early.
    func exchange(_ rounds: [[String: Any]], with server: ServerProcess) throws -> [[String]] {
        let port = try #require(URL(string: server.baseURL)?.port)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: rounds), as: UTF8.self)
        let output = try runFixture("Tests/Fixtures/http_rounds.py", [String(port), json])
        return try JSONDecoder().decode([[String]].self, from: output)
    }

    @Test(
        "a link answered on the event loop gets the router's answer byte for byte, GET and HEAD, and is recorded alike")
    func sameAnswers() throws {
        let (directory, server, database, zoe, item) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        var links = Network.allCases.flatMap { network in
            [
                "/s/"
                    + sealer.seal(
                        LinkToken(kind: .share, ambassadorID: zoe, itemID: item, network: network, week: week)),
                "/l/"
                    + sealer.seal(
                        LinkToken(kind: .visit, ambassadorID: zoe, itemID: item, network: network, week: week)),
            ]
        }
        links.append("/t/" + sealer.seal(LinkToken(kind: .trap, ambassadorID: zoe, week: week)))
        // A test message's link: the same answer, nothing recorded.
        links.append(
            "/s/"
                + sealer.seal(
                    LinkToken(kind: .share, ambassadorID: zoe, itemID: item, network: .x, week: week, test: true)))
        // A token that does not open: the one 404 page, nothing recorded.
        links.append("/s/" + String(links[0].dropFirst(3).reversed()))
        #expect(try fastAnswers(server) == 0)
        for link in links {
            // The router's answers (the first also fills the caches), then the same requests on the event loop.
            let router = try rawAnswer(server.baseURL + link, headers: viaRouter)
            let routerHead = try rawAnswer(server.baseURL + link, head: true, headers: viaRouter)
            let before = try fastAnswers(server)
            let fast = try rawAnswer(server.baseURL + link)
            let fastHead = try rawAnswer(server.baseURL + link, head: true)
            let date = try #require(
                try rawAnswer(server.baseURL + link, keepDate: true).split(separator: "\n").first {
                    $0.hasPrefix("Date: ")
                })
            #expect(try fastAnswers(server) == before + 3, "\(link) was answered on the event loop")
            #expect(fast == router, "\(link)")
            #expect(fastHead == routerHead, "\(link)")
            #expect(date.wholeMatch(of: /Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/) != nil)
            #expect(["302", "200", "404"].contains { router.hasPrefix("HTTP/1.1 \($0)") }, "\(router)")
            #expect(router.contains("X-Content-Type-Options: nosniff") && router.contains("Content-Security-Policy: "))
            #expect(routerHead.contains("Content-Length: 0") && !routerHead.contains("<!DOCTYPE"))
        }
        #expect(server.stop() == 0)
        // Every recorded link counted five times (a GET and a HEAD through the router, two GETs and a HEAD here);
        // the test link and the bad token not at all.
        let recorded = Network.allCases.count * 2 + 1
        #expect(try database.clickCounts().values.reduce(0, +) == 5 * recorded)
    }

    @Test("a link whose lookups must read the store is answered on the event loop too; a failed read: the router's 500")
    func coldLinks() throws {
        let (directory, server, database, zoe, item) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        func share(_ ambassadorID: Int64) -> String {
            "/s/"
                + sealer.seal(
                    LinkToken(kind: .share, ambassadorID: ambassadorID, itemID: item, network: .linkedin, week: week))
        }
        // Nothing cached yet: the item, the delivery time and the language are read on the store's threads, and the
        // answer is given here, the router's byte for byte.
        #expect(try fastAnswers(server) == 0)
        let fast = try rawAnswer(server.baseURL + share(zoe))
        #expect(try fastAnswers(server) == 1, "answered on the event loop")
        #expect(fast.hasPrefix("HTTP/1.1 200") && fast.contains("Copy the text and open LinkedIn"), "\(fast)")
        #expect(try rawAnswer(server.baseURL + share(zoe), headers: viaRouter) == fast)
        // Someone else (English too; the default is Dutch) whose link nobody opened yet, while the store cannot
        // answer: the same 500 from both paths, with the security headers, and nothing stored or cached.
        let stranger = share(try addPerson("Ann", .linkedin, to: database))
        try database.write { db in try db.execute(sql: "ALTER TABLE ambassador RENAME TO ambassadorAway") }
        let failed = try rawAnswer(server.baseURL + stranger)
        let routerFailed = try rawAnswer(server.baseURL + stranger, headers: viaRouter)
        try database.write { db in try db.execute(sql: "ALTER TABLE ambassadorAway RENAME TO ambassador") }
        #expect(failed.hasPrefix("HTTP/1.1 500") && failed.contains("X-Content-Type-Options: nosniff"), "\(failed)")
        #expect(failed == routerFailed)
        #expect(try fastAnswers(server) == 1, "a 500 is not counted")
        // Once the store answers again, the link is read afresh (a cached failure would give the default language)
        // and answered here.
        let later = try rawAnswer(server.baseURL + stranger)
        #expect(later.hasPrefix("HTTP/1.1 200") && later.contains("Copy the text and open LinkedIn"), "\(later)")
        #expect(try fastAnswers(server) == 2)
        #expect(server.stop() == 0)
        #expect(try database.clickCounts().values.reduce(0, +) == 3, "Zoë's two and Ann's one")
    }

    @Test(
        "a reader's visit whose click could not be stored is not counted: their next visit is their first, both paths")
    func failedVisitIsForgotten() throws {
        let (directory, server, database, zoe, item) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        func visit(_ network: Network) -> String {
            server.baseURL + "/l/"
                + sealer.seal(LinkToken(kind: .visit, ambassadorID: zoe, itemID: item, network: network, week: week))
        }
        // Each post's link read once (the item cached), then asked while no click can be committed: a 500, on the
        // event loop and through the router; asked again once commits work, the reader's visit is their first.
        // The table a click is committed to: SQLite's inbox, PostgreSQL's click table.
        let table = database.usesClickInbox ? "clickParcel" : "click"
        for (network, headers) in [(Network.x, [String]()), (.linkedin, viaRouter)] {
            try database.write { db in try db.execute(sql: "ALTER TABLE \(table) RENAME TO away") }
            let failed = try rawAnswer(visit(network), headers: headers)
            try database.write { db in try db.execute(sql: "ALTER TABLE away RENAME TO \(table)") }
            #expect(failed.hasPrefix("HTTP/1.1 500"), "\(failed)")
            let stored = try rawAnswer(visit(network), headers: headers)
            #expect(stored.hasPrefix("HTTP/1.1 302"), "\(stored)")
        }
        #expect(server.stop() == 0)
        try database.settleClicks()
        let readers = try database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT network, newReader, newItemReader FROM click ORDER BY id").map {
                "\($0["network"] as String) \($0["newReader"] as Int) \($0["newItemReader"] as Int)"
            }
        }
        #expect(readers == ["x 1 1", "linkedin 1 0"], "the second post is of the same item")
    }

    @Test(
        "ten mails just delivered, clicked at once: the tenth miss reads the week's mails together, and the clicks on the week's other mails are judged by the delivery times it kept"
    )
    func weekReadTogether() throws {
        let (directory, server, database, _, item) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        let people = try (1...20).map { try addPerson("Person\($0)", .x, to: database) }
        let digest = try database.beginDigest(week: week, now: Date())
        try database.enqueueDeliveries(digestID: digest.id, week: week, now: Date())
        var deliveries: [Int64: Int64] = [:]
        for due in try database.claimDeliveries(digestID: digest.id, now: Date(), sender: 1, limit: 100) {
            try database.recordOutcome(deliveryID: due.id, status: .sent, error: nil, now: Date())
            deliveries[due.ambassador.id!] = due.id
        }
        /// Each person's X share link, requested by one curl over one connection: all within milliseconds.
        func click(_ persons: ArraySlice<Int64>) throws -> [Substring] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments =
                ["-s", "-A", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"]
                + persons.flatMap { person in
                    let link = sealer.seal(
                        LinkToken(kind: .share, ambassadorID: person, itemID: item, network: .x, week: week))
                    return ["-o", "/dev/null", "-w", "%{http_code}\n", "\(server.baseURL)/s/\(link)"]
                }
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let answers = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return answers.split(separator: "\n")
        }
        #expect(try click(people[0..<10]) == Array(repeating: "302", count: 10))
        #expect(try counter("advocate_link_week_reads_total", server) == 1)
        // The other ten mails' delivery is moved an hour back in the store: read now, their clicks would be a
        // person's; judged by the times the week's read kept, within 15 s of delivery, they are a scanner's.
        for person in people[10...] {
            try database.recordOutcome(
                deliveryID: try #require(deliveries[person]), status: .sent, error: nil,
                now: Date().addingTimeInterval(-3_600))
        }
        #expect(try click(people[10...]) == Array(repeating: "302", count: 10))
        #expect(try counter("advocate_link_week_reads_total", server) == 1, "read once")
        #expect(server.stop() == 0)
        #expect(try database.clickCounts() == ["share/scanner": 20])
    }

    @Test("cold links in a pipelined write, a HEAD and a visit among them, and a failed read: each answer in its place")
    func coldPipelined() throws {
        let (directory, server, database, zoe, item) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        func rounds(_ rounds: [[String: Any]]) throws -> [[String]] { try exchange(rounds, with: server) }
        func request(_ method: String, _ path: String) -> String {
            "\(method) \(path) HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\n\r\n"
        }
        func link(_ kind: LinkToken.Kind, _ person: Int64, _ network: Network) -> String {
            (kind == .share ? "/s/" : "/l/")
                + sealer.seal(LinkToken(kind: kind, ambassadorID: person, itemID: item, network: network, week: week))
        }
        let (ann, bob) = (try addPerson("Ann", .x, to: database), try addPerson("Bob", .linkedin, to: database))
        let (zoeX, annX, annVisit) = (link(.share, zoe, .x), link(.share, ann, .x), link(.visit, ann, .x))
        let bobPage = link(.share, bob, .linkedin)
        // Nothing is cached: the first link's item, delivery time and language and the second's mail are read on the
        // store's threads while the links behind them wait their turn (the visit and the last link find the caches
        // those reads filled); a HEAD and a visit among them.
        #expect(try fastAnswers(server) == 0)
        let cold = try rounds([
            [
                "send": [request("GET", zoeX), request("HEAD", annX), request("GET", annVisit), request("GET", zoeX)],
                "answers": 4,
            ]
        ])
        // Bob's mail has never been read when the deliveries cannot be: his link's read (the delivery time and his
        // language, for the share page) fails; the link behind it (cached now, its click committed as ever) is still
        // answered, in its place.
        try database.write { db in try db.execute(sql: "ALTER TABLE delivery RENAME TO deliveryAway") }
        let failed = try rounds([["send": [request("GET", bobPage), request("GET", zoeX)], "answers": 2]])
        try database.write { db in try db.execute(sql: "ALTER TABLE deliveryAway RENAME TO delivery") }
        #expect(try fastAnswers(server) == 5, "four cold or cached links and the one after the failure")
        // Each link's answer asked alone, now that all is cached.
        let expected = try [zoeX, annX, annVisit].map { "302 " + (try http(server.baseURL + $0).location) }
        #expect(expected[0] != expected[1] && expected.allSatisfy { $0.hasPrefix("302 https://") }, "\(expected)")
        #expect(cold == [[expected[0], expected[1], expected[2], expected[0]]], "\(cold)")
        #expect(failed == [["500 ", expected[0]]], "\(failed)")
        #expect(server.stop() == 0)
        // Four in the first round, Zoë's after the failure and the three asked again; Bob's was not recorded.
        #expect(try database.clickCounts().values.reduce(0, +) == 4 + 1 + 3)
    }

    @Test("pipelined, half-closed and broken requests get their answers in order, here and from the router")
    func order() throws {
        let (directory, server, database, zoe, item) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        let x = "/s/" + sealer.seal(LinkToken(kind: .share, ambassadorID: zoe, itemID: item, network: .x, week: week))
        let visit =
            "/l/" + sealer.seal(LinkToken(kind: .visit, ambassadorID: zoe, itemID: item, network: .x, week: week))
        // Fill the caches, so that both links are answered on the event loop without waiting for a read.
        let expectedX = try http(server.baseURL + x).location
        let expectedVisit = try http(server.baseURL + visit).location
        func get(_ path: String, _ extra: String = "") -> String { "GET \(path) HTTP/1.1\r\nHost: x\r\n\(extra)\r\n" }
        func rounds(_ rounds: [[String: Any]]) throws -> [[String]] { try exchange(rounds, with: server) }
        func answers(_ rounds: [[String]]) -> [[String]] { rounds.map { $0.map { $0.hasPrefix("404") ? "404" : $0 } } }
        var before = try fastAnswers(server)
        // One connection: a link, the health check (the router), the other link, the first again and a 404 path in
        // one write; then, once those are read, the link alone again; then three links in one write (each waits
        // here behind the one before), and a request asking to close, behind which a link is the router's.
        let pipelined = try rounds([
            ["send": [get(x), get("/healthz"), get(visit), get(x), get("/nothing-here")], "answers": 5],
            ["send": [get(x)], "answers": 1],
            ["send": [get(x), get(visit), get(x)], "answers": 3],
            ["send": [get("/healthz", "Connection: close\r\n"), get(x)], "answers": 2],
        ])
        #expect(
            answers(pipelined) == [
                ["302 \(expectedX)", "200 ok", "302 \(expectedVisit)", "302 \(expectedX)", "404"], ["302 \(expectedX)"],
                ["302 \(expectedX)", "302 \(expectedVisit)", "302 \(expectedX)"], ["200 ok", "closed"],
            ])
        // The first link of the first two rounds and all three of the third here; those behind the open health
        // check went to the router; the one after the request that closed was not answered, nor recorded.
        #expect(try fastAnswers(server) == before + 5)
        before = try fastAnswers(server)
        // The client ends its side right after a link: the answer still comes, then the server closes.
        let halfClosed = try rounds([["send": [get(x)], "answers": 2, "halfClose": true]])
        #expect(halfClosed == [["302 \(expectedX)", "closed"]])
        // A link, then bytes that are not HTTP: the link's answer first, then the router's 400.
        let broken = try rounds([["send": [get(visit), "NOT HTTP AT ALL\r\n\r\n"], "answers": 3]])
        #expect(broken.first?.prefix(2) == ["302 \(expectedVisit)", "400 "], "\(broken)")
        #expect(try fastAnswers(server) == before + 2)
        // A GET with a body, or with `Expect`, is the router's: answered alike, not here.
        before = try fastAnswers(server)
        let bodied = try rounds([
            ["send": [get(x, "Content-Length: 5\r\n") + "hello", get(x, "Expect: 100-continue\r\n")], "answers": 2]
        ])
        #expect(bodied == [["302 \(expectedX)", "302 \(expectedX)"]], "\(bodied)")
        #expect(try fastAnswers(server) == before)
        // Header names in any case: a zero length is answered here, an `EXPECT` is the router's, and a lower-case
        // `connection: close` still hands the rest of its connection to the router.
        let cased = try rounds([
            ["send": [get(x, "content-length: 0\r\n"), get(x, "EXPECT: 100-continue\r\n")], "answers": 2],
            ["send": [get("/healthz", "connection: close\r\n"), get(x)], "answers": 2],
        ])
        #expect(cased == [["302 \(expectedX)", "302 \(expectedX)"], ["200 ok", "closed"]], "\(cased)")
        #expect(try fastAnswers(server) == before + 1)
        before = try fastAnswers(server)
        // HTTP/1.0 without a Host is answered here too, as the router answers it.
        let old = try rounds([["send": ["GET \(x) HTTP/1.0\r\n\r\n"], "answers": 1]])
        #expect(old == [["302 \(expectedX)"]], "\(old)")
        #expect(try fastAnswers(server) == before + 1)
        #expect(server.stop() == 0)
        // Two warming requests, seven links in the pipelined rounds, the half-closed one, the broken round's link,
        // the two with a body or Expect, the two with names in other cases and the HTTP/1.0 one.
        #expect(try database.clickCounts().values.reduce(0, +) == 2 + 7 + 1 + 1 + 2 + 2 + 1)
    }
}
