import AdvocateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Advocate

/// The click server's routes, driven in-process through Hummingbird's test client with a clock the test moves.
/// (ServerTests keeps what needs a real process: signals, and requests no HTTP client would send.)
@Suite("The click server's routes")
struct RouteTests {
    static let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))
    let itemURL = "https://acme.example/nieuws/zon?ref=site&x=a%20b#lees-meer"
    let browser: HTTPFields = [.userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"]

    /// A database with one ambassador and one item, and the application over it.
    struct Fixture {
        var directory: TempDirectory
        var context: AppContext
        var database: AppDatabase
        var server: ClickServer
        var clock: TestClock
        var zoe: Int64
        var item: Int64
    }

    func start(adminToken: String? = nil, now: (@Sendable () -> Date)? = nil) throws -> Fixture {
        let directory = try TempDirectory()
        let configPath = try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "plan": {"goals": [{"period": "2026-12", "shares": 10}]}}
            """)
        let clock = TestClock()
        var environment = ["ADVOCATE_LINK_KEYS": testLinkKeys].merging(TestBackend.environment) { $1 }
        environment["ADVOCATE_ADMIN_TOKEN"] = adminToken
        let context = try AppContext.load(
            configPath: configPath, environment: environment, now: now ?? { clock.now })
        let database = try context.openDatabase()
        let zoe = try database.addAmbassador(
            Ambassador(email: "zoe@example.org", name: "Zoë", language: .en, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        let item = try database.addContent(
            ContentItem(
                url: itemURL, title: "Zon & wind: 4.000 huizen", summary: "s", weeks: [Self.week],
                texts: [SuggestedText(text: "Trots op ons team & de buurt! #groen ☀️")]), now: fixedNow)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = try buildApplication(context: context, database: database, logger: logger)
        return Fixture(
            directory: directory, context: context, database: database, server: server, clock: clock, zoe: zoe.id!,
            item: item.id!)
    }

    func token(
        _ fixture: Fixture, _ kind: LinkToken.Kind, _ network: Network? = nil, week: ISOWeek = week, test: Bool = false
    ) -> String {
        sealer.seal(
            LinkToken(
                kind: kind, ambassadorID: fixture.zoe, itemID: kind == .share || kind == .visit ? fixture.item : 0,
                network: network, week: week, test: test))
    }

    /// Begins the week's digest and claims its one delivery (Zoë's mail) for sending, as a sender would before
    /// handing it to the relay; returns the delivery's id.
    func claimWeeksMail(_ database: AppDatabase) throws -> Int64 {
        let digest = try database.beginDigest(week: Self.week, now: fixedNow)
        #expect(try database.enqueueDeliveries(digestID: digest.id, week: Self.week, now: fixedNow) == 1)
        return try #require(
            try database.claimDeliveries(digestID: digest.id, now: fixedNow, sender: 1, limit: 10).first
        )
        .id
    }

    /// Runs `body` against the application, then stops its click writer.
    func withClient(_ fixture: Fixture, _ body: @Sendable (any TestClientProtocol) async throws -> Void)
        async throws
    {
        defer { fixture.server.recorder.shutdown() }
        try await fixture.server.application.test(.router) { client in try await body(client) }
    }

    @Test("every network's share redirect is exactly the network's dialog with the tracked post link inside")
    func redirects() async throws {
        let fixture = try start()
        let browser = browser
        let text = "Trots%20op%20ons%20team%20%26%20de%20buurt%21%20%23groen%20%E2%98%80%EF%B8%8F"
        var expected: [Network: String] = [:]
        var visits: [Network: String] = [:]
        for network in Network.allCases {
            let visit = token(fixture, .visit, network)
            visits[network] = visit
            let u = "https%3A%2F%2Fgo.acme.example%2Fl%2F\(visit)"
            expected[network] =
                switch network {
                case .linkedin: "https://www.linkedin.com/sharing/share-offsite/?url=\(u)"
                case .x: "https://x.com/intent/tweet?text=\(text)&url=\(u)"
                case .facebook: "https://www.facebook.com/sharer/sharer.php?u=\(u)"
                case .whatsapp: "https://wa.me/?text=\(text)%20\(u)"
                case .bluesky: "https://bsky.app/intent/compose?text=\(text)%20\(u)"
                case .threads: "https://www.threads.com/intent/post?text=\(text)&url=\(u)"
                case .telegram: "https://t.me/share/url?url=\(u)&text=\(text)"
                case .mastodon: "https://share.joinmastodon.org/?text=\(text)%20\(u)"
                case .email:
                    "mailto:?subject=Zon%20%26%20wind%3A%204.000%20huizen&body=\(text)%0A%0A\(u)"
                }
        }
        let shares = Network.allCases.map { ($0, token(fixture, .share, $0)) }
        let expectedURLs = expected
        let linkedinVisit = visits[.linkedin]!
        try await withClient(fixture) { client in
            for (network, share) in shares {
                try await client.execute(uri: "/s/\(share)", method: .get, headers: browser) { response in
                    #expect(response.headers[.cacheControl] == "no-store")
                    guard network != .linkedin && network != .facebook else {
                        // No pre-filled text there: the share page, whose button and plain link lead to the dialog.
                        #expect(response.status == .ok, "\(network)")
                        let page = String(buffer: response.body)
                        let href = expectedURLs[network]!.replacingOccurrences(of: "&", with: "&amp;")
                        #expect(page.contains("id=\"open\" href=\"\(href)\""), "\(network)")
                        #expect(page.contains("Trots op ons team &amp; de buurt! #groen"), "\(network)")
                        #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'sha256-") == true)
                        return
                    }
                    #expect(response.status == .found, "\(network)")
                    #expect(response.headers[.location] == expectedURLs[network], "\(network)")
                }
            }
            try await client.execute(uri: "/l/\(linkedinVisit)", method: .get, headers: browser) { response in
                #expect(response.status == .found)
                #expect(
                    response.headers[.location]
                        == "https://acme.example/nieuws/zon?ref=site&x=a%20b&utm_source=linkedin"
                        + "&utm_medium=employee-advocacy&utm_campaign=2026-W49#lees-meer")
            }
        }
        let counts = try fixture.database.clickCounts()
        // Nine links of one mail at once: a scanner. The same client then opening the post link inside a share
        // redirect is that scanner following it, not a reader, and confirms nothing.
        #expect(counts["share/scanner"] == Network.allCases.count)
        #expect(counts["visit/scanner"] == 1)
        #expect(try fixture.database.clickReasons().last == "followed from the mail's links")
    }

    @Test("random, truncated, tampered, other-key and wrong-kind tokens get the same 404 and record nothing")
    func badTokens() async throws {
        let fixture = try start()
        let good = token(fixture, .share, .x)
        var flipped = Base64URL.decode(good)!
        flipped[9] ^= 0x10
        let otherKey = LinkSealer(keyring: try LinkKeyring(parsing: LinkKeyring.generateEntry(id: 1))).seal(
            LinkToken(kind: .share, ambassadorID: fixture.zoe, itemID: fixture.item, network: .x, week: Self.week))
        let noItem = sealer.seal(LinkToken(kind: .share, ambassadorID: 1, itemID: 999, network: .x, week: Self.week))
        let bad = [
            "/s/AAAAAAAAAAAAAAAAAAAAAAA", "/s/\(good.dropLast())", "/s/\(Base64URL.encode(flipped))", "/s/\(otherKey)",
            "/s/\(token(fixture, .visit, .x))", "/s/\(noItem)", "/l/\(good)", "/u/\(good)", "/t/\(good)",
        ]
        let browser = browser
        let pages = Shared(Set<String>())
        try await withClient(fixture) { client in
            for path in bad {
                try await client.execute(uri: path, method: .get, headers: browser) { response in
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.headers[.location] == nil, "no redirect for \(path)")
                    pages.withLock { _ = $0.insert(String(buffer: response.body)) }
                }
            }
            try await client.execute(uri: "/s/" + String(repeating: "A", count: 600), method: .get) { response in
                #expect(response.status == .uriTooLong)
            }
        }
        #expect(pages.withLock { $0.count } == 1, "the same plain page for every bad link")
        #expect(try fixture.database.clickCounts().isEmpty)
    }

    @Test("HEAD, crawlers, scanners and the honeypot are recorded as such; the honeypot taints hits around it")
    func classification() async throws {
        let fixture = try start()
        let (x, linkedin, bluesky, email, whatsapp, trap) = (
            token(fixture, .share, .x), token(fixture, .share, .linkedin), token(fixture, .share, .bluesky),
            token(fixture, .share, .email), token(fixture, .share, .whatsapp), token(fixture, .trap)
        )
        let browser = browser
        try await withClient(fixture) { client in
            #expect(try await client.execute(uri: "/s/\(x)", method: .head, headers: browser).status == .found)
            let bot: HTTPFields = [.userAgent: "LinkedInBot/1.0 (compatible; Mozilla/5.0)"]
            #expect(try await client.execute(uri: "/s/\(linkedin)", method: .get, headers: bot).status == .ok)
            #expect(try await client.execute(uri: "/s/\(bluesky)", method: .get).status == .found)
            let headless: HTTPFields = [.userAgent: "Mozilla/5.0 HeadlessChrome/120"]
            #expect(try await client.execute(uri: "/s/\(email)", method: .get, headers: headless).status == .found)
            let counts = try fixture.database.clickCounts()
            #expect(counts["share/scanner"] == 3)
            #expect(counts["share/crawler"] == 1)
            #expect(counts["share/human"] == nil)

            // Later, a person clicks; a scanner then follows the hidden honeypot within a second.
            fixture.clock.advance(by: 60)
            #expect(try await client.execute(uri: "/s/\(whatsapp)", method: .get, headers: browser).status == .found)
            #expect(try fixture.database.clickCounts()["share/human"] == 1)
            fixture.clock.advance(by: 1)
            #expect(try await client.execute(uri: "/t/\(trap)", method: .get, headers: browser).status == .ok)
            let after = try fixture.database.clickCounts()
            #expect(after["trap/scanner"] == 1)
            #expect(after["share/human"] == nil, "the honeypot marks the mail's hits around it as scanner hits")
        }
    }

    @Test("a share page's press whose click could not be stored is forgotten, so that the next press stores it")
    func failedPressIsForgotten() async throws {
        let fixture = try start()
        defer { fixture.server.recorder.shutdown() }
        let config = fixture.context.config
        let recorder = ClickRecorder(database: fixture.database)
        recorder.shutdown()
        let handler = LinkHandler(
            context: fixture.context, database: fixture.database, recorder: recorder,
            pages: try PageRenderer.load(directory: config.resolve(config.templatesDirectory)), sealer: sealer)
        await #expect(throws: StoreError.self) {
            try await handler.pressed(token(fixture, .share, .linkedin), fetchSite: "same-origin")
        }
        let share = ShareKey.of(ambassadorID: fixture.zoe, itemID: fixture.item, network: .linkedin, week: Self.week)
        #expect(handler.directory.notePress(share), "the press that failed was forgotten")
    }

    @Test("a hit before the mail's delivery is recorded does not hide the delivery time from the hits after it")
    func deliveryRecordedAfterAHit() async throws {
        let fixture = try start()
        let database = fixture.database
        let due = try claimWeeksMail(database)
        let (linkedin, x) = (token(fixture, .share, .linkedin), token(fixture, .share, .x))
        let browser = browser
        try await withClient(fixture) { client in
            // A scanner at the receiving side fetches a button before the relay has answered: no delivery yet.
            fixture.clock.advance(by: 1)
            #expect(try await client.execute(uri: "/s/\(linkedin)", method: .get, headers: browser).status == .ok)
            #expect(try database.clickCounts() == ["share/human": 1], "no delivery time to judge it by")
            #expect(try database.mailFacts(ambassadorID: fixture.zoe, week: Self.week).awaited, "on its way")
            // The relay answers; 3 s later the scan goes on with the next button, well within 15 s of delivery.
            try database.recordOutcome(deliveryID: due, status: .sent, error: nil, now: fixture.clock.now)
            fixture.clock.advance(by: 3)
            #expect(try await client.execute(uri: "/s/\(x)", method: .get, headers: browser).status == .found)
            #expect(try database.clickCounts() == ["share/human": 1, "share/scanner": 1])
        }
    }

    @Test("a mail's first hit reads its delivery time and the person's language: a scanner's within 15 s, in English")
    func deliveryAndLanguage() async throws {
        let fixture = try start()
        let database = fixture.database
        // Zoë (English) is mailed at fixedNow; Bas (English too; the default is Dutch) joins after the week's mail
        // and has none.
        try database.recordOutcome(deliveryID: try claimWeeksMail(database), status: .sent, error: nil, now: fixedNow)
        let bas = try database.addAmbassador(
            Ambassador(
                email: "bas@example.org", name: "Bas", language: .en, networks: [.x, .linkedin], joinedAt: fixedNow),
            now: fixedNow
        ).id!
        let zoe = token(fixture, .share, .linkedin)
        let basX = sealer.seal(
            LinkToken(kind: .share, ambassadorID: bas, itemID: fixture.item, network: .x, week: Self.week))
        let basLinkedIn = sealer.seal(
            LinkToken(kind: .share, ambassadorID: bas, itemID: fixture.item, network: .linkedin, week: Self.week))
        let browser = browser
        let english = "Copy the text and open LinkedIn"
        try await withClient(fixture) { client in
            // Both unknown: read in one statement.
            fixture.clock.advance(by: 5)
            try await client.execute(uri: "/s/\(zoe)", method: .get, headers: browser) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(english), "in Zoë's language")
            }
            #expect(try database.clickCounts() == ["share/scanner": 1], "5 s after her mail was delivered")
            // X takes the text in its link: only the delivery time is read (there is none).
            #expect(try await client.execute(uri: "/s/\(basX)", method: .get, headers: browser).status == .found)
            #expect(try database.clickCounts() == ["share/scanner": 1, "share/human": 1], "Bas has no delivery")
            // Then only his language.
            fixture.clock.advance(by: 30)
            try await client.execute(uri: "/s/\(basLinkedIn)", method: .get, headers: browser) { response in
                #expect(String(buffer: response.body).contains(english), "in Bas's language")
            }
            #expect(try database.clickCounts() == ["share/scanner": 1, "share/human": 2])
        }
        let facts = try database.mailFacts(ambassadorID: fixture.zoe, week: Self.week)
        #expect(facts.deliveredAt.map { abs($0.timeIntervalSince(fixedNow)) < 0.001 } == true)
        #expect(facts.language == .en && !facts.awaited, "delivered: nothing awaited")
        let none = try database.mailFacts(ambassadorID: bas, week: Self.week)
        #expect(none.deliveredAt == nil && none.language == .en && !none.awaited, "no mail: none awaited")
        let nobody = try database.mailFacts(ambassadorID: 999_999, week: Self.week)
        #expect(nobody.deliveredAt == nil && nobody.language == nil)
    }

    @Test("a hit's moment is taken when it is noted and judged, after its lookups, not when it arrived")
    func momentAfterLookups() async throws {
        // A share hit whose delivery time had to be read from the store must not carry its arrival's moment: a
        // honeypot hit of the same scanner noted meanwhile would come after it, and never taint it. Each reading of
        // this clock is 1 ms after the one before; the hit reads it on arrival and again when it is noted.
        let readings = Shared(0)
        let fixture = try start(now: {
            fixedNow.addingTimeInterval(
                Double(
                    readings.withLock {
                        $0 += 1
                        return $0
                    }) / 1_000)
        })
        let share = token(fixture, .share, .x)
        let browser = browser
        try await withClient(fixture) { client in
            let arrival = readings.withLock { $0 } + 1
            #expect(try await client.execute(uri: "/s/\(share)", method: .get, headers: browser).status == .found)
            let last = readings.withLock { $0 }
            try fixture.database.settleClicks()
            let stored = try #require(
                try fixture.database.read { db in try String.fetchOne(db, sql: "SELECT at FROM click") }
                    .flatMap { Date.fromSQLValue(.text($0)) })
            #expect(last > arrival, "the hit read the clock again after arriving")
            // Compared as stored (to the millisecond, rounded down).
            let expected = Date.fromSQLValue(fixedNow.addingTimeInterval(Double(last) / 1_000).sqlValue)
            #expect(
                stored == expected, "stored at its last reading (\(last)), not at its arrival (\(arrival)): \(stored)")
        }
    }

    @Test("one-click POST unsubscribes in both RFC 8058 encodings; GET only shows a confirm page")
    func unsubscribe() async throws {
        let fixture = try start()
        let link = "/u/\(token(fixture, .unsubscribe))"
        let database = fixture.database
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        let multipart: HTTPFields = [.contentType: "multipart/form-data; boundary=----advocate7MA4YWxk"]
        let multipartBody =
            "------advocate7MA4YWxk\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
            + "One-Click\r\n------advocate7MA4YWxk--\r\n"
        @Sendable func status() throws -> AmbassadorStatus? {
            try database.ambassador(email: "zoe@example.org")?.status
        }
        try await withClient(fixture) { client in
            try await client.execute(uri: link, method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                #expect(page.contains("<form method=\"post\">") && page.contains("Yes, unsubscribe me"))
            }
            #expect(try status() == .active, "GET changes nothing")

            try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "List-Unsubscribe=One-Click")
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("You are unsubscribed"))
            }
            #expect(try status() == .unsubscribed)

            let again = try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "action=resubscribe"))
            #expect(String(buffer: again.body).contains("Welcome back"))
            #expect(try status() == .active)

            let viaMultipart = try await client.execute(
                uri: link, method: .post, headers: multipart, body: ByteBuffer(string: multipartBody))
            #expect(viaMultipart.status == .ok)
            #expect(try status() == .unsubscribed, "multipart/form-data one-click works too")
            _ = try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "action=resubscribe"))

            for (headers, body) in [
                (form, "="), (form, "nonsense=1"), (form, "%"), (form, "&&=&"), (form, "List-Unsubscribe=one-click"),
                (multipart, "garbage"),
                (HTTPFields([.init(name: .contentType, value: "multipart/form-data")]), multipartBody),
                (HTTPFields([.init(name: .contentType, value: "text/plain")]), "List-Unsubscribe=One-Click"),
            ] as [(HTTPFields, String)] {
                let response = try await client.execute(
                    uri: link, method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == .badRequest, "\(body)")
            }
            #expect(try status() == .active, "no malformed form changed anything")
        }
    }

    @Test("an old mail's link still unsubscribes but cannot sign the person up again; a day later no link can")
    func oldLinkCannotResubscribe() async throws {
        let fixture = try start()
        let link = "/u/\(token(fixture, .unsubscribe))"
        let database = fixture.database
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        fixture.clock.advance(by: 10 * 7 * 86_400)
        try await withClient(fixture) { client in
            let post = try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "List-Unsubscribe=One-Click"))
            #expect(post.status == .ok)
            #expect(!String(buffer: post.body).contains("resubscribe"), "no re-subscribe button on an old link")
            #expect(try database.ambassador(email: "zoe@example.org")?.status == .unsubscribed)
            let again = try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "action=resubscribe"))
            #expect(String(buffer: again.body).contains("sign up again"))
            #expect(try database.ambassador(email: "zoe@example.org")?.status == .unsubscribed)
        }
    }

    @Test("re-subscribing by the unsubscribe link is an undo within a day, never for a pending person")
    func resubscribeIsAnUndo() async throws {
        let fixture = try start()
        let link = "/u/\(token(fixture, .unsubscribe))"
        let database = fixture.database
        let clock = fixture.clock
        let zoe = fixture.zoe
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        try await withClient(fixture) { client in
            _ = try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "List-Unsubscribe=One-Click"))
            clock.advance(by: 2 * 86_400)
            let page = try await client.execute(uri: link, method: .get)
            #expect(!String(buffer: page.body).contains("name=\"action\""), "no undo button two days later")
            _ = try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "action=resubscribe"))
            #expect(try database.ambassador(id: zoe)?.status == .unsubscribed)

            try database.setStatus(.pending, ambassadorID: zoe, now: clock.now)
            _ = try await client.execute(
                uri: link, method: .post, headers: form, body: ByteBuffer(string: "action=resubscribe"))
            #expect(try database.ambassador(id: zoe)?.status == .pending, "an unconfirmed person is never activated")
        }
    }

    @Test("a test message's links redirect like real ones but count nothing and unsubscribe nobody")
    func testLinks() async throws {
        let fixture = try start()
        let share = token(fixture, .share, .x, test: true)
        let visit = token(fixture, .visit, .x, test: true)
        let trap = token(fixture, .trap, test: true)
        let unsubscribe = token(fixture, .unsubscribe, test: true)
        let database = fixture.database
        let browser = browser
        try await withClient(fixture) { client in
            try await client.execute(uri: "/s/\(share)", method: .get, headers: browser) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location]?.hasPrefix("https://x.com/intent/tweet?text=") == true)
                let inside = try #require(response.headers[.location]?.components(separatedBy: "%2Fl%2F").last)
                #expect(sealer.open(inside)?.test == true, "the post's link is a test link too")
            }
            #expect(try await client.execute(uri: "/l/\(visit)", method: .get, headers: browser).status == .found)
            #expect(try await client.execute(uri: "/t/\(trap)", method: .get, headers: browser).status == .ok)
            let page = try await client.execute(uri: "/u/\(unsubscribe)", method: .get)
            #expect(String(buffer: page.body).contains("test message"))
            let post = try await client.execute(
                uri: "/u/\(unsubscribe)", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "List-Unsubscribe=One-Click"))
            #expect(String(buffer: post.body).contains("Nobody was unsubscribed"))
        }
        #expect(try database.clickCounts().isEmpty)
        #expect(try database.ambassador(email: "zoe@example.org")?.status == .active)
    }

    @Test("an erased ambassador's links still redirect and count anonymously")
    func erased() async throws {
        let fixture = try start()
        let share = token(fixture, .share, .x)
        #expect(try fixture.database.removeAmbassador(email: "zoe@example.org"))
        let browser = browser
        try await withClient(fixture) { client in
            try await client.execute(uri: "/s/\(share)", method: .get, headers: browser) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location]?.hasPrefix("https://x.com/intent/tweet?text=") == true)
            }
        }
        #expect(try fixture.database.clickCounts()["share/human"] == 1)
    }

    @Test("the dashboard: 401 without the right credentials, the page with them; without a token no bearer works")
    func dashboardAuth() async throws {
        let secret = "dashboard-secret-\(UUID().uuidString)"
        let fixture = try start(adminToken: secret)
        let share = token(fixture, .share, .x)
        let browser = browser
        try await withClient(fixture) { client in
            #expect(try await client.execute(uri: "/s/\(share)", method: .get, headers: browser).status == .found)
            for header in [nil, "Bearer wrong", "Basic YWRtaW46d3Jvbmc="] {
                var headers: HTTPFields = [:]
                headers[.authorization] = header
                let response = try await client.execute(uri: "/admin", method: .get, headers: headers)
                #expect(response.status == .unauthorized)
                #expect(!String(buffer: response.body).contains("Zon"))
            }
            let basic = Data("admin:\(secret)".utf8).base64EncodedString()
            for header in ["Bearer \(secret)", "Basic \(basic)"] {
                let response = try await client.execute(uri: "/admin", method: .get, headers: [.authorization: header])
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Zon &amp; wind"))
            }
        }
        let closed = try start()
        try await withClient(closed) { client in
            let response = try await client.execute(
                uri: "/admin", method: .get, headers: [.authorization: "Bearer \(secret)"])
            #expect(response.status == .unauthorized, "editors sign in; no token opens it")
            #expect(!String(buffer: response.body).contains("Zon"))
        }
    }
}
