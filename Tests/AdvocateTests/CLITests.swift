import Foundation
import Testing

@Suite("The advocate command line")
struct CLITests {
    @Test("init is idempotent, list --json prints what was imported")
    func listJSON() throws {
        let directory = try TempDirectory()
        try directory.write("config.json", "{\"databasePath\": \"db/advocate.sqlite\"}")
        try directory.write(
            "people.csv", "email,name,language,themes,networks\nzoe@example.org,Zoë d'Hondt,nl,,linkedin;x\n")
        #expect(try advocate(["init"], in: directory.url).status == 0)
        let again = try advocate(["init"], in: directory.url)
        #expect(again.status == 0)
        #expect(again.stdout.contains("19 migrations"))
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)

        let result = try advocate(["ambassadors", "list", "--json"], in: directory.url)
        #expect(result.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list[0]["email"] as? String == "zoe@example.org")
        #expect(list[0]["name"] as? String == "Zoë d'Hondt")
        #expect(list[0]["networks"] as? [String] == ["linkedin", "x"])
        #expect(list[0]["status"] as? String == "active")
    }

    @Test("content add and list --week --json agree")
    func contentJSON() throws {
        let directory = try TempDirectory()
        try directory.write("config.json", "{}")
        let add = try advocate(
            [
                "content", "add", "https://example.org/post", "--title", "Post", "--week", "2026-W53",
                "--text", "Lees dit", "--text", "x:Voor X",
            ], in: directory.url)
        #expect(add.status == 0, "\(add.stderr)")
        let result = try advocate(["content", "list", "--week", "2026-W53", "--json"], in: directory.url)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(items.count == 1)
        #expect(items[0]["weeks"] as? [String] == ["2026-W53"])
        let texts = try #require(items[0]["texts"] as? [[String: Any]])
        #expect(texts.map { $0["text"] as? String } == ["Lees dit", "Voor X"])
        #expect(texts[1]["network"] as? String == "x")
        let empty = try advocate(["content", "list", "--week", "2027-W01", "--json"], in: directory.url)
        #expect(empty.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]")
    }

    @Test("failures are one clear line and a non-zero exit, never a stack trace or raw SQLite error")
    func failures() throws {
        let directory = try TempDirectory(sqliteOnly: true)
        try directory.write("config.json", "{\"mail\": {\"smtp\": {\"conections\": 2}}}")
        let badConfig = try advocate(["ambassadors", "list"], in: directory.url)
        #expect(badConfig.status == 1)
        #expect(
            badConfig.stderr == "error: config key 'mail.smtp.conections' is unknown (allowed here: "
                + "url, startTLS, username, caFile, verifyPeer, connectTimeoutSeconds, timeoutSeconds, connections, "
                + "maxPerSecond, reconnectAfter, maxAttempts, retryBaseSeconds, retryWithinRunSeconds, inDoubtShare)\n")

        try directory.write("config.json", "{}")
        #expect(try advocate(["ambassadors", "add", "a@example.org", "--name", "A"], in: directory.url).status == 0)
        let duplicate = try advocate(["ambassadors", "add", "A@example.org"], in: directory.url)
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr == "error: an ambassador with e-mail a@example.org already exists\n")

        let missing = try advocate(["ambassadors", "remove", "nobody@example.org"], in: directory.url)
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: no ambassador, sign-up or invitation with e-mail nobody@example.org\n")

        // A setting the command needs is a configuration error: one line, exit 1, no usage text.
        let noFeeds = try advocate(["content", "fetch"], in: directory.url)
        #expect(noFeeds.status == 1 && noFeeds.stderr == "error: config key 'feeds' is missing\n", "\(noFeeds.stderr)")

        let badWeek = try advocate(["content", "list", "--week", "2026-W54"], in: directory.url)
        #expect(badWeek.status != 0)
        #expect(badWeek.stderr.contains("'2026-W54' does not exist: that year has 53 ISO weeks"))

        try directory.write("data/advocate.sqlite", "this is not a database")
        let corrupt = try advocate(["ambassadors", "list"], in: directory.url)
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr.hasPrefix("error: cannot open the database"))
        #expect(!corrupt.stderr.contains("SQLite error"))
        #expect(corrupt.stderr.split(separator: "\n").count == 1)
    }

    @Test("a digest week outside the years links can carry is a clear error, not a crash")
    func weekOutOfRange() throws {
        let directory = try TempDirectory()
        try directory.write("config.json", "{}")
        for week in ["1999-W10", "3024-W01"] {
            for command in [["digest", "send"], ["digest", "send", "--dry-run", "out"], ["digest", "status"]] {
                let result = try advocate(command + ["--week", week], in: directory.url)
                #expect(result.status == 64, "\(command) \(week): \(result.stderr)")
                #expect(result.stderr.contains("\(week) is outside the years digests can be sent for (2000–3023)"))
            }
        }
    }

    @Test("invite names the file of a bad CSV, and gives advice it can follow (it has no --skip-invalid)")
    func inviteErrors() throws {
        let directory = try TempDirectory(sqliteOnly: true)
        try directory.write("config.json", "{}")
        #expect(try advocate(["init"], in: directory.url).status == 0)
        try directory.write("header.csv", "e-mail,name\nann@example.org,Ann\n")
        let header = try advocate(["invite", "header.csv"], in: directory.url)
        #expect(header.status != 0)
        #expect(header.stderr.contains("header.csv: line 1: unknown column 'e-mail'"), "\(header.stderr)")
        try directory.write("rows.csv", "email,name\nnot-an-address,Ann\n")
        let rows = try advocate(["invite", "rows.csv"], in: directory.url)
        #expect(rows.status != 0)
        #expect(rows.stderr.contains("rows.csv: 1 invalid row(s); nobody was invited"), "\(rows.stderr)")
        #expect(!rows.stderr.contains("--skip-invalid"))
        let listed = try advocate(["invite", "--status", "--json"], in: directory.url).stdout
        #expect((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [Any])?.isEmpty == true, "\(listed)")
    }

    @Test("a database kept busy by another process is exit 1 with a clear line, not the send lock's exit 75")
    func busyIsNotLocked() throws {
        let directory = try TempDirectory(sqliteOnly: true)
        try directory.write("config.json", "{}")
        #expect(try advocate(["init"], in: directory.url).status == 0)
        let holder = try WriteLockHolder(path: directory.path("data/advocate.sqlite"))
        let run = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        holder.release()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("error: ") && run.stderr.contains("busy"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test("ambassadors set changes only what it is given, even for a long imported name or a theme the plan dropped")
    func setWithOldValues() throws {
        let directory = try TempDirectory()
        let long = String(repeating: "Anna-Maria ", count: 15).trimmingCharacters(in: .whitespaces)
        try directory.write("config.json", "{}")
        try directory.write(
            "people.csv", "email,name,language,themes,networks\nzoe@example.org,\(long),nl,oud-thema,linkedin\n")
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        try directory.write(
            "config.json", "{\"plan\": {\"themes\": [\"nieuw\"], \"themeLabels\": {\"Nieuw\": {\"nl\": \"Nieuw\"}}}}")
        let set = try advocate(
            ["ambassadors", "set", "zoe@example.org", "--status", "unsubscribed"], in: directory.url)
        #expect(set.status == 0, "\(set.stderr)")
        let list = try advocate(["ambassadors", "list", "--json"], in: directory.url)
        let people = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(people.first?["status"] as? String == "unsubscribed")
        #expect(people.first?["name"] as? String == long)
        // Bad values are named by the options that set them, in words; a language code in capitals is a code.
        let bad = try advocate(
            ["ambassadors", "set", "zoe@example.org", "--pause-until", "2020-01-01", "--networks", "myspace"],
            in: directory.url)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--networks names an unknown network"), "\(bad.stderr)")
        #expect(bad.stderr.contains("--pause-until is a day that has passed"), "\(bad.stderr)")
        #expect(
            try advocate(["ambassadors", "set", "zoe@example.org", "--language", "EN"], in: directory.url).status == 0)
        let after = try advocate(["ambassadors", "list", "--json"], in: directory.url)
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]])
        #expect(listed.first?["language"] as? String == "en")
    }
}

/// Another process holding SQLite's write lock on a database (Python's sqlite3 in an open exclusive transaction).
final class WriteLockHolder {
    let process = Process()
    let input = Pipe()

    init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c",
            """
            import sqlite3, sys
            connection = sqlite3.connect(sys.argv[1], isolation_level=None)
            connection.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            sys.stdin.read()
            """, path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        guard firstLine(of: output, timeout: 10).hasPrefix("locked") else {
            throw TestSetupError(description: "could not lock \(path)")
        }
    }

    func release() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
