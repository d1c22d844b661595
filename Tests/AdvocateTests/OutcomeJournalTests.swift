import Advocate
import AdvocateCore
import Foundation
import Testing

/// The journal of replies beside the SQLite store (`data/advocate.sqlite.outcomes`): a reply noted there before a
/// kill settles its delivery on the next run, instead of leaving it in doubt.
@Suite(
    "Replies noted before a kill", .serialized,
    .disabled(if: TestBackend.postgres, "SQLite's journal only: it ran in the SQLite pass"))
struct OutcomeJournalTests {
    let content = """
        [{"url": "https://acme.example/zon", "title": "Zonnepark open", "week": "2026-W49", "texts": ["Deel dit!"]}]
        """

    /// A run killed after the relay's reply to `hold-a@example.org` was noted but before the ledger committed it: the
    /// relay holds its reply to the final dot, the test takes SQLite's write lock, lets the relay answer, and kills
    /// the run once the journal holds the reply (the ledger's commit waits for the lock). With `kill` false the lock
    /// is held until the run gives up on its own (its commit fails after SQLite's busy timeout) and its exit status
    /// is returned.
    func killedAfterTheReply(kill killing: Bool = true) throws -> (
        directory: TempDirectory, server: SMTPServerProcess, journal: String, status: Int32
    ) {
        let directory = try TempDirectory(sqliteOnly: true)
        let server = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        try directory.write(
            "config.json",
            smtpConfig(port: server.port, certificate: nil, username: nil, extra: "\"connections\": 1"))
        try directory.write("content.json", content)
        try directory.write("people.csv", "email,name,language,themes,networks\nhold-a@example.org,A,en,,x\n")
        _ = try advocate(["ambassadors", "import", "people.csv"], in: directory.url)
        _ = try advocate(["content", "import", "content.json"], in: directory.url)

        let run = try startAdvocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        #expect(waitUntil(timeout: 20) { server.received().count == 1 }, "the relay took the whole message")
        let lock = try WriteLockHolder(path: directory.path("data/advocate.sqlite"))
        server.release()
        let journal = directory.path("data/advocate.sqlite.outcomes")
        let noted = waitUntil(timeout: 20) {
            ((try? FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int) ?? 0) > 0
        }
        if killing {
            kill(run.processIdentifier, SIGKILL)
        } else {
            #expect(waitUntil(timeout: 90) { !run.isRunning }, "the run gives up when the ledger cannot be written")
        }
        run.waitUntilExit()
        lock.release()
        #expect(noted, "the reply was noted while the ledger's commit waited for the lock")
        return (directory, server, journal, run.terminationStatus)
    }

    func delivery(in directory: TempDirectory) throws -> DeliveryListing {
        let database = try directory.openDatabase()
        let digest = try #require(try database.digest(week: try ISOWeek(parsing: "2026-W49")))
        return try #require(try database.deliveries(digestID: digest.id).first)
    }

    @Test("a reply noted before a kill settles its delivery on the next run: sent, not in doubt, not sent again")
    func replyNotedBeforeKill() throws {
        let (directory, server, journal, _) = try killedAfterTheReply()
        let stopped = try delivery(in: directory)
        #expect(stopped.status == .sending && stopped.attempts == 1, "the kill came before the ledger's commit")

        let again = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("\"recordedAfterStop\" : 1"))
        #expect(again.stdout.contains("\"abandonedInDoubt\" : 0"))
        let settled = try delivery(in: directory)
        #expect(settled.status == .sent && settled.attempts == 1)
        #expect(server.received().map(\.recipient) == ["hold-a@example.org"], "nothing was sent twice")
        #expect(try Data(contentsOf: URL(fileURLWithPath: journal)).isEmpty, "the journal is emptied once recorded")

        // A run that records every reply it noted empties the journal at its end.
        try directory.write("later.csv", "email,name,language,themes,networks\nlater@example.org,L,en,,x\n")
        _ = try advocate(["ambassadors", "import", "later.csv"], in: directory.url)
        let later = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        #expect(later.status == 0 && later.stdout.contains("1 sent in this run"), "\(later.stdout)\(later.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: journal)).isEmpty, "emptied at the end of a run")
    }

    @Test("a reply whose commit failed stays in the journal, and the next run records it")
    func commitFailed() throws {
        let (directory, server, journal, status) = try killedAfterTheReply(kill: false)
        #expect(status != 0, "the run stops when the ledger cannot be written")
        #expect(try delivery(in: directory).status == .sending)
        #expect(try !Data(contentsOf: URL(fileURLWithPath: journal)).isEmpty, "the journal was kept")

        let again = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("\"recordedAfterStop\" : 1"))
        #expect(try delivery(in: directory).status == .sent)
        #expect(server.received().count == 1)
    }

    /// Replaces the journal a killed run left with `lines`, in its format: digest, delivery, attempt, status, time,
    /// next attempt (`-`: none), error (escaped).
    func rewrite(_ journal: String, _ lines: [String]) throws {
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: journal))
    }

    @Test("a noted reply settles only its digest's delivery on the attempt it answers, with its error as it was")
    func onlyItsAttempt() throws {
        let (directory, server, journal, _) = try killedAfterTheReply()
        let stopped = try delivery(in: directory)
        let digestID = try #require(try directory.openDatabase().digest(week: try ISOWeek(parsing: "2026-W49"))).id
        let at = Date().timeIntervalSince1970
        try rewrite(
            journal,
            [
                "\(digestID + 1) \(stopped.id) 1 sent \(at) - ", "\(digestID) \(stopped.id) 2 sent \(at) - ",
                "\(digestID) \(stopped.id) 1 failed \(at) - 554 refused\\r\\nafter the dot \\\\ twice", "",
            ])

        let again = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
        #expect(again.status == 3, "a failed delivery leaves the digest open: \(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("\"recordedAfterStop\" : 1"))
        let settled = try delivery(in: directory)
        #expect(
            settled.status == .failed && settled.attempts == 1, "another digest's line and attempt 2's did not apply")
        #expect(settled.lastError == "554 refused\r\nafter the dot \\ twice")
        #expect(server.received().count == 1)
    }

    @Test("a line cut short (no newline: the write was cut by the kill) is left out, and the delivery is in doubt")
    func lineCutShort() throws {
        let (directory, server, journal, _) = try killedAfterTheReply()
        let stopped = try delivery(in: directory)
        let digestID = try #require(try directory.openDatabase().digest(week: try ISOWeek(parsing: "2026-W49"))).id
        try rewrite(journal, ["\(digestID) \(stopped.id) 1 sent \(Date().timeIntervalSince1970) - "])

        let again = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
        #expect(again.status == 3, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("\"recordedAfterStop\" : 0"))
        #expect(again.stdout.contains("\"abandonedInDoubt\" : 1"))
        #expect(try delivery(in: directory).status == .inDoubt)
        #expect(server.received().count == 1)
    }
}
