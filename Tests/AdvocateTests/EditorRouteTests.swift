import Advocate
import AdvocateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// A browser-like client for the editor: keeps every cookie the server sets and posts the page's CSRF token.
/// Sendable by hand: a client belongs to one test, which awaits each request before the next (cookies stay in order).
final class EditorClient: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]

    init(client: any TestClientProtocol) { self.client = client }

    var cookieHeader: String { cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
    var csrf: String { cookies.first { $0.key.hasSuffix("advocate_csrf") }?.value ?? "" }

    @discardableResult
    func get(_ uri: String) async throws -> TestResponse {
        let response = try await client.execute(uri: uri, method: .get, headers: [.cookie: cookieHeader])
        remember(response)
        return response
    }

    @discardableResult
    func post(
        _ uri: String, _ fields: [(String, String)], csrf override: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        let body = ([("csrf", override ?? csrf)] + fields).map {
            "\(ShareIntent.percentEncode($0.0))=\(ShareIntent.percentEncode($0.1))"
        }.joined(separator: "&")
        var headers: HTTPFields = [.cookie: cookieHeader, .contentType: "application/x-www-form-urlencoded"]
        headers.append(contentsOf: extra)
        let response = try await client.execute(
            uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        remember(response)
        return response
    }

    func signIn(_ name: String = "anna", password: String = EditorRouteTests.password) async throws -> TestResponse {
        try await get("/admin/login")
        return try await post("/admin/login", [("name", name), ("password", password)])
    }

    private func remember(_ response: TestResponse) {
        for value in response.headers[values: .setCookie] {
            let pair = value.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let content = String(pair[pair.index(after: equals)...])
            if value.contains("Max-Age=0") || content.isEmpty { cookies[name] = nil } else { cookies[name] = content }
        }
    }
}

@Suite("The editor's routes: sign-in, CSRF, editing, preview")
struct EditorRouteTests {
    static let password = "correct horse battery staple"
    static let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))

    struct Fixture {
        var directory: TempDirectory
        var database: AppDatabase
        var server: ClickServer
        var clock: TestClock
        var items: [Int64]
    }

    func start(publicBaseURL: String = "http://127.0.0.1:8080") throws -> Fixture {
        let directory = try TempDirectory()
        let configPath = try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "\(publicBaseURL)",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "editor": {"passwordCost": 10}}
            """)
        let clock = TestClock()
        let context = try AppContext.load(
            configPath: configPath,
            environment: ["ADVOCATE_LINK_KEYS": testLinkKeys].merging(TestBackend.environment) { $1 },
            now: { clock.now })
        let database = try context.openDatabase()
        _ = try database.addEditor(
            name: "anna", passwordHash: try EditorAuth.hash(password: Self.password, cost: 10), now: fixedNow)
        _ = try database.addEditor(
            name: "bram", passwordHash: try EditorAuth.hash(password: Self.password, cost: 10), now: fixedNow)
        _ = try database.addAmbassador(
            Ambassador(email: "zoe@example.org", name: "Zoë", language: .en, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        let items = try ["Eerste", "Tweede", "Derde"].enumerated().map { index, title in
            try database.addContent(
                ContentItem(
                    url: "https://acme.example/\(index)", title: title, weeks: [Self.week],
                    texts: [SuggestedText(text: "Tekst \(title)")]), now: fixedNow
            ).id!
        }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = try buildApplication(context: context, database: database, logger: logger)
        return Fixture(directory: directory, database: database, server: server, clock: clock, items: items)
    }

    func run(_ fixture: Fixture, _ body: @Sendable (EditorClient) async throws -> Void) async throws {
        defer { fixture.server.recorder.shutdown() }
        try await fixture.server.application.test(.router) { client in try await body(EditorClient(client: client)) }
    }

    @Test("signing in: a wrong password is refused, the right one gives a session cookie; sign out ends it")
    func signIn() async throws {
        let fixture = try start()
        try await run(fixture) { browser in
            let page = try await browser.get("/admin/weeks")
            #expect(page.status == .seeOther && page.headers[.location] == "/admin/login", "pages need a session")
            let wrong = try await browser.signIn(password: "not the password")
            #expect(wrong.status == .unauthorized)
            #expect(String(buffer: wrong.body).contains("Wrong name or password."))
            #expect(browser.cookies["advocate_editor"] == nil)

            let right = try await browser.signIn()
            #expect(right.status == .seeOther)
            let cookie = try #require(right.headers[.setCookie])
            #expect(
                cookie.hasPrefix("advocate_editor=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
            #expect(!cookie.contains("Secure"), "plain http on loopback")
            let weeks = try await browser.get("/admin/weeks")
            #expect(weeks.status == .ok)
            #expect(String(buffer: weeks.body).contains("anna"))
            // This week and the next eight (the fixture's items are in this week and the next only).
            var week = Self.week
            for _ in 0...8 {
                #expect(String(buffer: weeks.body).contains("<a href=\"/admin/weeks/\(week)\">\(week)</a>"), "\(week)")
                week = week.next
            }
            #expect(!String(buffer: weeks.body).contains("/admin/weeks/\(week)\""), "not the ninth after")
            #expect(weeks.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(try await browser.get("/admin").status == .ok, "the dashboard opens for an editor")

            let stolen = browser.cookies["advocate_editor"]
            #expect(try await browser.post("/admin/logout", []).status == .seeOther)
            #expect(browser.cookies["advocate_editor"] == nil)
            browser.cookies["advocate_editor"] = stolen
            #expect(
                try await browser.get("/admin/weeks").status == .seeOther, "the ended session is gone on the server")
        }
        let stored = try fixture.database.editors().map(\.name)
        #expect(stored == ["anna", "bram"])
    }

    @Test("over https the session cookie is __Host- and Secure")
    func secureCookie() async throws {
        let fixture = try start(publicBaseURL: "https://go.acme.example")
        try await run(fixture) { browser in
            let response = try await browser.signIn()
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("__Host-advocate_editor=") && cookie.contains("; Secure"))
        }
    }

    @Test("sign-in pauses after five failures for that account, even for the right password; others still sign in")
    func rateLimit() async throws {
        let fixture = try start()
        try await run(fixture) { browser in
            for _ in 0..<5 { #expect(try await browser.signIn(password: "guess guess guess").status == .unauthorized) }
            let paused = try await browser.signIn()
            #expect(paused.status == .tooManyRequests)
            #expect(paused.headers[.retryAfter] == "900")
            #expect(browser.cookies["advocate_editor"] == nil)
            #expect(try await browser.signIn("bram").status == .seeOther)
            fixture.clock.advance(by: 16 * 60)
            #expect(try await browser.signIn().status == .seeOther, "the pause ends after 15 minutes")
        }
    }

    @Test("every editor POST needs the page's CSRF token; without it nothing changes")
    func csrf() async throws {
        let fixture = try start()
        try await run(fixture) { browser in
            #expect(try await browser.signIn().status == .seeOther)
            let real = browser.csrf
            let other: Character = real.first == "A" ? "B" : "A"
            let forged = try await browser.post(
                "/admin/items", [("url", "https://evil.example/x"), ("title", "Forged"), ("weeks", "2026-W49")],
                csrf: String(other) + String(real.dropFirst()),
                headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(forged.status == .forbidden)
            // An editor's own form whose token expired (the browser says it came from this site) comes back
            // unsaved, with what was typed and a fresh token.
            let body = String(buffer: forged.body)
            #expect(body.contains("security token had expired"), "\(body.prefix(300))")
            #expect(body.contains("value=\"Forged\"") && body.contains("https://evil.example/x"))
            // One the browser says another site posted is refused plainly: shown back, it would be one press from
            // saved (the page would carry the editor's own token).
            // One that does not say plainly that it came from this site (a sibling's page; a browser without
            // Sec-Fetch-Site whose Origin is null, or none) is refused plainly.
            for headers: HTTPFields in [
                [HTTPField.Name("Sec-Fetch-Site")!: "same-site"], [.origin: "null"], [:],
            ] {
                let crossSite = try await browser.post(
                    "/admin/items/\(fixture.items[0])",
                    [("url", "https://evil.example/x"), ("title", "Forged"), ("weeks", "2026-W49")], csrf: "",
                    headers: headers)
                #expect(crossSite.status == .forbidden)
                let refused = String(buffer: crossSite.body)
                #expect(!refused.contains("Forged") && !refused.contains("evil.example"), "\(refused.prefix(300))")
            }
            // With the right token, a save of an item whose form does not say which version it changes is a
            // conflict: it would overwrite whatever changed meanwhile.
            let unversioned = try await browser.post(
                "/admin/items/\(fixture.items[0])",
                [("url", "https://evil.example/x"), ("title", "Forged"), ("weeks", "2026-W49")])
            #expect(unversioned.status == .conflict)
            #expect(String(buffer: unversioned.body).contains("did not say which version"))
            let removal = try await browser.post(
                "/admin/items/\(fixture.items[0])/remove", [("week", "2026-W49")], csrf: "")
            #expect(removal.status == .forbidden)
        }
        #expect(try fixture.database.contentItems().count == 3)
        #expect(try fixture.database.contentItems().allSatisfy { $0.title != "Forged" })
        #expect(try fixture.database.contentChanges().allSatisfy { $0.editor == "cli" })
    }

    @Test("edits, order, moves and removal through the routes, each recorded with the editor and the time")
    func editing() async throws {
        let fixture = try start()
        let (first, second, third) = (fixture.items[0], fixture.items[1], fixture.items[2])
        try await run(fixture) { browser in
            #expect(try await browser.signIn().status == .seeOther)
            fixture.clock.advance(by: 60)
            let version = try #require(try fixture.database.contentVersion(id: second))
            let saved = try await browser.post(
                "/admin/items/\(second)",
                [
                    ("version", version), ("url", "https://acme.example/1"), ("title", "Tweede, herschreven"),
                    ("weeks", "2026-W49"),
                    ("language", "nl"), ("texts.all", "Een\n---\nTwee"), ("texts.x", "Kort voor X"),
                    ("en.title", "Second, rewritten"), ("en.texts.all", "One"), ("prompt", "Wat vond jij?"),
                ])
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "/admin/items/\(second)?done=saved")
            let invalid = try await browser.post(
                "/admin/items/\(second)", [("url", "javascript:alert(1)"), ("title", "x"), ("weeks", "2026-W49")])
            #expect(invalid.status == .unprocessableContent)
            #expect(String(buffer: invalid.body).contains("Not saved: url"))
            #expect(
                try await browser.post("/admin/items/\(third)/move", [("week", "2026-W49"), ("direction", "up")]).status
                    == .seeOther)
            #expect(
                try await browser.post("/admin/items/\(first)/schedule", [("from", "2026-W49"), ("to", "draft")]).status
                    == .seeOther)
            let page = String(buffer: try await browser.get("/admin/weeks").body)
            #expect(page.contains("Eerste"), "the draft is listed")
        }
        let item = try #require(try fixture.database.contentItem(id: second))
        #expect(item.title == "Tweede, herschreven")
        #expect(item.texts.map(\.text) == ["Een", "Twee", "Kort voor X"])
        #expect(item.variants.first?.title == "Second, rewritten")
        #expect(item.prompt == "Wat vond jij?")
        #expect(try fixture.database.contentItems(week: Self.week).map(\.id) == [third, second])
        #expect(try fixture.database.draftItems().map(\.id) == [first])
        let changes = try fixture.database.contentChanges().filter { $0.editor == "anna" }
        #expect(Set(changes.map(\.action)) == ["edit", "move up", "reschedule"])
        #expect(changes.allSatisfy { $0.at == fixedNow.addingTimeInterval(60) })
    }

    @Test("remove on a week page takes the item out of that week: its other weeks and its links stay")
    func removeFromWeek() async throws {
        let fixture = try start()
        let item = fixture.items[1]
        let later = try ISOWeek(parsing: "2026-W50")
        try fixture.database.rescheduleContent(id: item, from: nil, to: later, now: fixedNow, editor: "cli")
        let zoe = try #require(try fixture.database.ambassador(email: "zoe@example.org")?.id)
        let visit =
            "/l/" + sealer.seal(LinkToken(kind: .visit, ambassadorID: zoe, itemID: item, network: .x, week: Self.week))
        try await run(fixture) { browser in
            #expect(try await browser.signIn().status == .seeOther)
            // Without a week (or with one that does not parse) only a draft is deleted: an item in weeks is left.
            for fields in [[], [("week", "garbage")]] {
                let refused = try await browser.post("/admin/items/\(item)/remove", fields)
                #expect(refused.headers[.location] == "/admin/weeks?done=stale")
                #expect(try fixture.database.contentItem(id: item)?.weeks == [Self.week, later])
            }
            let removed = try await browser.post("/admin/items/\(item)/remove", [("week", "2026-W50")])
            #expect(removed.headers[.location] == "/admin/weeks/2026-W50?done=removedFromWeek")
            // W49's digest (mailed, say) keeps it, and a link in it still leads to the article.
            #expect(try fixture.database.contentItem(id: item)?.weeks == [Self.week])
            let followed = try await browser.get(visit)
            #expect(
                followed.status == .found && followed.headers[.location]?.hasPrefix("https://acme.example/1") == true,
                "\(followed.headers)")
            // An open page of W50 that still shows it changes nothing.
            let again = try await browser.post("/admin/items/\(item)/remove", [("week", "2026-W50")])
            #expect(again.headers[.location] == "/admin/weeks/2026-W50?done=stale")
            #expect(try fixture.database.contentItem(id: item)?.weeks == [Self.week])
            // Out of its last week it is a draft; a draft's remove deletes it.
            _ = try await browser.post("/admin/items/\(item)/remove", [("week", "2026-W49")])
            #expect(try fixture.database.draftItems().map(\.id) == [item])
            let notes = try fixture.database.contentChanges(itemID: item).filter { $0.editor == "anna" }.map(\.detail)
            #expect(notes.contains("2026-W50 → out of the week") && notes.contains("2026-W49 → draft"), "\(notes)")
            let deleted = try await browser.post("/admin/items/\(item)/remove", [])
            #expect(deleted.headers[.location] == "/admin/weeks?done=removed")
            #expect(try fixture.database.contentItem(id: item) == nil)
        }
    }

    @Test("an editor sends at most 20 test mails an hour; the next is refused with 429, and the hour after it works")
    func testSendLimit() async throws {
        let fixture = try start()
        try await run(fixture) { browser in
            #expect(try await browser.signIn().status == .seeOther)
            for index in 1...20 {
                let sent = try await browser.post(
                    "/admin/weeks/2026-W49/test",
                    [("ambassador", "zoe@example.org"), ("address", "t\(index)@acme.example")])
                #expect(sent.status == .ok, "\(index)")
            }
            let refused = try await browser.post(
                "/admin/weeks/2026-W49/test", [("ambassador", "zoe@example.org"), ("address", "t21@acme.example")])
            #expect(refused.status == .tooManyRequests)
            #expect(String(buffer: refused.body).contains("at most 20 test mails an hour"))
            fixture.clock.advance(by: 3_601)
            let later = try await browser.post(
                "/admin/weeks/2026-W49/test", [("ambassador", "zoe@example.org"), ("address", "t22@acme.example")])
            #expect(later.status == .ok)
        }
        let outbox = fixture.directory.url.appendingPathComponent("outbox")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.path).count == 21)
    }

    @Test("the preview is the mail's digest with test links, inside a sandboxed frame")
    func preview() async throws {
        let fixture = try start()
        let sealer = sealer
        try await run(fixture) { browser in
            #expect(try await browser.signIn().status == .seeOther)
            // The form is posted; the preview's address names the person by id, never by e-mail address.
            let posted = try await browser.post("/admin/weeks/2026-W49/preview", [("ambassador", "Zoe@Example.org")])
            #expect(posted.status == .seeOther)
            let location = try #require(posted.headers[.location])
            #expect(location.hasPrefix("/admin/weeks/2026-W49/preview?id=") && !location.contains("@"))
            let page = try await browser.get(location)
            #expect(page.status == .ok)
            let body = String(buffer: page.body)
            #expect(body.contains("Ready to share, week 49: Eerste"))
            #expect(body.contains("sandbox=\"allow-popups allow-popups-to-escape-sandbox\""))
            let source = try #require(
                body.components(separatedBy: "src=\"").dropFirst().first { $0.contains("preview.html") })
            let frameURL = String(source.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            #expect(!frameURL.contains("@") && !frameURL.contains("%40"))
            let frame = try await browser.get(frameURL)
            #expect(frame.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
            let html = String(buffer: frame.body)
            let tokens = html.components(separatedBy: "/s/").dropFirst().map {
                String($0.prefix { $0 != "\"" && $0 != "&" })
            }
            #expect(!tokens.isEmpty)
            #expect(tokens.allSatisfy { sealer.open($0)?.test == true }, "every share link in a preview is a test link")
            let nobody = try await browser.post("/admin/weeks/2026-W49/preview", [("ambassador", "nobody@example.org")])
            #expect(String(buffer: nobody.body).contains("No digest: nobody@example.org is not an ambassador"))
            #expect(
                String(buffer: try await browser.get("/admin/weeks/2026-W49/preview?id=999").body).contains("No digest")
            )
            #expect(try await browser.get("/admin/weeks/2026-W49/preview.html?id=999").status == .notFound)
            // Without the form's token, nothing.
            #expect(
                try await browser.post("/admin/weeks/2026-W49/preview", [("ambassador", "zoe@example.org")], csrf: "x")
                    .status == .forbidden)
        }
    }

    @Test("a stale form, a stale move and a language switch over a filled-in version change nothing and say why")
    func staleAndConflicting() async throws {
        let fixture = try start()
        let second = fixture.items[1]
        try await run(fixture) { browser in
            #expect(try await browser.signIn().status == .seeOther)
            let form = String(buffer: try await browser.get("/admin/items/\(second)").body)
            let version = try #require(inputValue("version", in: form))
            fixture.clock.advance(by: 60)
            let fields: [(String, String)] = [
                ("url", "https://acme.example/1"), ("weeks", "2026-W49"), ("language", "nl"),
            ]
            let first = try await browser.post(
                "/admin/items/\(second)", fields + [("title", "Eerste versie"), ("version", version)])
            #expect(first.status == .seeOther)
            let stale = try await browser.post(
                "/admin/items/\(second)", fields + [("title", "Oude versie"), ("version", version)])
            #expect(stale.status == .conflict)
            #expect(String(buffer: stale.body).contains("anna changed this item after you opened it"))

            let switched = try await browser.post(
                "/admin/items/\(second)",
                [
                    ("url", "https://acme.example/1"), ("weeks", "2026-W49"), ("language", "en"), ("title", "Tweede"),
                    ("en.title", "Second"),
                ])
            #expect(switched.status == .unprocessableContent)
            #expect(String(buffer: switched.body).contains("the English version is filled in"))

            #expect(try await browser.post("/admin/items/\(second)/remove", [("week", "2026-W49")]).status == .seeOther)
            let move = try await browser.post(
                "/admin/items/\(second)/move", [("week", "2026-W49"), ("direction", "up")])
            #expect(move.headers[.location] == "/admin/weeks/2026-W49?done=stale")
            let reschedule = try await browser.post(
                "/admin/items/\(fixture.items[0])/schedule", [("from", "2026-W51"), ("to", "2026-W52")])
            #expect(reschedule.headers[.location] == "/admin/weeks/2026-W51?done=stale", "not in that week (any more)")
        }
        #expect(try fixture.database.contentItem(id: fixture.items[0])?.weeks == [Self.week])
    }

    @Test("twenty parallel guesses for one name get at most five password checks")
    func parallelGuesses() async throws {
        let fixture = try start()
        try await run(fixture) { browser in
            try await browser.get("/admin/login")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await browser.post("/admin/login", [("name", "anna"), ("password", "guess guess guess")])
                            .status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count <= 5)
            #expect(statuses.filter { $0 == .tooManyRequests }.count >= 15)
        }
    }
}
