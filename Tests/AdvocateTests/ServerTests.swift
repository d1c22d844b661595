import Advocate
import AdvocateCore
import Foundation
import Testing

/// `advocate serve` running as a real process on a free loopback port.
/// Sendable by hand: immutable after `init`; `Process` itself is thread-safe for terminate and wait.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let baseURL: String

    /// Starts the server in `directory`; its standard error goes to `errors` when given.
    init(directory: URL, environment extra: [String: String] = [:], errors: URL? = nil) throws {
        process.executableURL = URL(fileURLWithPath: try advocateBinary())
        process.arguments = ["serve"]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging([
            "ADVOCATE_LINK_KEYS": testLinkKeys, "LOG_LEVEL": "warning",
        ]) { $1 }.merging(TestBackend.environment) { $1 }.merging(extra) { $1 }
        let output = Pipe()
        process.standardOutput = output
        if let errors { _ = FileManager.default.createFile(atPath: errors.path, contents: nil) }
        process.standardError = FileHandle(forWritingAtPath: errors?.path ?? "/dev/null")
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

/// A folder for `advocate serve` on a free loopback port: config, the ambassadors of `people` (CSV) and one item
/// of `week`, imported through the CLI.
func serverFolder(people: String, week: ISOWeek) throws -> (TempDirectory, AppDatabase) {
    let directory = try TempDirectory()
    try directory.write(
        "config.json",
        """
        {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
         "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
         "server": {"host": "127.0.0.1", "port": 0}}
        """)
    try directory.write("people.csv", people)
    try directory.write(
        "content.json",
        """
        [{"url": "https://acme.example/zon", "title": "Zon", "week": "\(week)", "texts": ["Trots!"]}]
        """)
    #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
    #expect(try advocate(["content", "import", "content.json"], in: directory.url).status == 0)
    return (directory, try directory.openDatabase())
}

@Suite("advocate serve as a real process", .serialized)
struct ServerTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))

    /// A folder with config, one ambassador and one item, and `advocate serve` running over it.
    func start(environment: [String: String] = [:], errors: String? = nil) throws -> (
        TempDirectory, ServerProcess, AppDatabase
    ) {
        let (directory, database) = try serverFolder(
            people: "email,name,language,themes,networks\nzoe@example.org,Zoë,en,,x\n", week: week)
        let server = try ServerProcess(
            directory: directory.url, environment: environment, errors: errors.map(directory.url.appendingPathComponent)
        )
        return (directory, server, database)
    }

    func tokens(_ database: AppDatabase) throws -> [(kind: String, token: String)] {
        let zoe = try #require(try database.ambassador(email: "zoe@example.org")?.id)
        let item = try #require(try database.contentItems().first?.id)
        return Network.allCases.flatMap { network in
            [
                (
                    "s",
                    sealer.seal(LinkToken(kind: .share, ambassadorID: zoe, itemID: item, network: network, week: week))
                ),
                (
                    "l",
                    sealer.seal(LinkToken(kind: .visit, ambassadorID: zoe, itemID: item, network: network, week: week))
                ),
            ]
        } + [
            ("t", sealer.seal(LinkToken(kind: .trap, ambassadorID: zoe, week: week))),
            ("u", sealer.seal(LinkToken(kind: .unsubscribe, ambassadorID: zoe, week: week))),
            ("p", sealer.seal(LinkToken(kind: .preferences, ambassadorID: zoe, week: week))),
        ]
    }

    @Test("SIGTERM drains: every click that got its 302 is stored, and the process exits 0")
    func drainsOnSIGTERM() throws {
        let (directory, server, database) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        var redirects = 0
        for (kind, token) in try tokens(database) where kind == "s" || kind == "l" {
            // LinkedIn and Facebook share buttons answer with the share page, the others with a redirect.
            if [200, 302].contains(try http("\(server.baseURL)/\(kind)/\(token)").status) { redirects += 1 }
        }
        #expect(redirects == Network.allCases.count * 2)
        #expect(server.stop() == 0, "a clean exit after SIGTERM")
        #expect(try database.clickCounts().values.reduce(0, +) == redirects)
    }

    @Test("an idle server moves its click inbox into the indexed table; a SIGKILL loses no answered click")
    func clickInbox() throws {
        let (directory, server, database) = try start()
        defer { withExtendedLifetime(directory) {} }
        defer { server.stop() }
        let links = try tokens(database).filter { $0.kind == "s" || $0.kind == "l" }
        func follow() throws {
            for (kind, token) in links {
                #expect([200, 302].contains(try http("\(server.baseURL)/\(kind)/\(token)").status))
            }
        }
        // Its threads carry names that top -H and perf show (Linux refuses a name over 15 bytes); the checkpoints
        // are SQLite's (the store with the inbox). Each thread names itself as it starts; one may end between the
        // listing and the read.
        let tasks = "/proc/\(server.process.processIdentifier)/task"
        func threads() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [])
                .compactMap { try? String(contentsOfFile: "\(tasks)/\($0)/comm", encoding: .utf8) }
        }
        let named = database.usesClickInbox ? ["click-writer\n", "wal-checkpoint\n"] : ["click-writer\n"]
        #expect(waitUntil { Set(named).isSubset(of: threads()) }, "\(threads())")
        try follow()
        // No reader runs here: the server itself empties its inbox once no click has come for a moment.
        #expect(waitUntil { (try? database.inboxCount()) == 0 })
        #expect(try database.clickCounts().values.reduce(0, +) == links.count)
        // Answered clicks are committed before their answers: a SIGKILL right after them loses none. The next
        // read moves what the server could not.
        try follow()
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        #expect(try database.clickCounts().values.reduce(0, +) == 2 * links.count)
        #expect(try database.inboxCount() == 0)
    }

    @Test("a bounded fuzz of every route's path, query, headers and body finds no crash, hang or 5xx")
    func fuzz() throws {
        let (directory, server, database) = try start(environment: ["ADVOCATE_ADMIN_TOKEN": "fuzz-token-0123456789"])
        defer { server.stop() }
        let file = try directory.write("tokens.txt", try tokens(database).map { "\($0.kind) \($0.token)\n" }.joined())
        let text = String(
            decoding: try runFixture(
                "scripts/fuzz_http.py",
                [server.baseURL, file, "--requests", "5000", "--seconds", "60", "--seed", "20261130"]),
            as: UTF8.self)
        print(text)
        #expect(text.contains("fuzz_http: 5000 requests"), "\(text)")
        #expect(text.contains("no crash, no hang"))
        #expect(server.process.isRunning, "the server is still up")
        #expect(try http("\(server.baseURL)/healthz").status == 200)
        #expect(server.stop() == 0)
    }

    @Test("the share page in headless Chromium: the button copies the edited text and opens LinkedIn's dialog")
    func sharePage() throws {
        let directory = try TempDirectory()
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0}, "digest": {"disclosure": {"nl": "#medewerker"}}}
            """)
        try directory.write("people.csv", "email,name,language,themes,networks\nbas@example.org,Bas,nl,,linkedin\n")
        try directory.write(
            "content.json",
            """
            [{"url": "https://acme.example/zon", "title": "Zonnepark open", "week": "2026-W49",
              "texts": ["Trots op ons team & de buurt!"]}]
            """)
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        #expect(try advocate(["content", "import", "content.json"], in: directory.url).status == 0)
        let database = try directory.openDatabase()
        let bas = try #require(try database.ambassador(email: "bas@example.org")?.id)
        let item = try #require(try database.contentItems().first?.id)
        let share = sealer.seal(
            LinkToken(kind: .share, ambassadorID: bas, itemID: item, network: .linkedin, week: week))
        let visit = sealer.seal(
            LinkToken(kind: .visit, ambassadorID: bas, itemID: item, network: .linkedin, week: week))
        let server = try ServerProcess(directory: directory.url)
        defer { server.stop() }

        let page = try http("\(server.baseURL)/s/\(share)")
        #expect(page.status == 200)
        #expect(page.body.contains("<textarea id=\"text\""))
        // The pages' own style, without the form controls' (the sign-up and preference forms carry those too).
        #expect(page.body.contains("main { max-width: 560px") && !page.body.contains("input[type=email]"))
        let data = try runFixture(
            "Tests/Fixtures/share_page.py",
            [server.baseURL, "/s/\(share)", packageRoot.appendingPathComponent("artifacts/share-page-nl.png").path])
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let intent = "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fgo.acme.example%2Fl%2F\(visit)"
        #expect(report["title"] as? String == "Deel in je eigen woorden")
        #expect(report["text"] as? String == "Trots op ons team & de buurt! #medewerker", "the disclosure is added")
        #expect(report["plainLink"] as? String == intent, "without JavaScript a plain link opens the dialog")
        #expect(report["labelled"] as? Bool == true && report["overflow"] as? Bool == false)
        #expect((report["buttonHeight"] as? Double ?? 0) >= 44)
        #expect(report["navigatedTo"] as? String == intent)
        #expect(report["clipboard"] as? String == "Trots op ons team & de buurt! #medewerker Mijn eigen woorden.")
        #expect(
            waitUntil(timeout: 10) {
                (try? database.clickReasons())?.contains("pressed the share page's copy-and-open button") == true
            }, "the press is recorded as evidence of a person")
        #expect(server.stop() == 0)
        let counts = try database.clickCounts()
        // curl's GET counts as a person; the page load by headless Chrome as a scanner (its user agent says so);
        // the press as a person: a share confirmed by the button even when the load looked like a machine.
        #expect(counts == ["share/human": 2, "share/scanner": 1], "\(counts)")
    }
}
