import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("The send ledger against a fault-injecting SMTP server", .serialized)
struct DigestLedgerTests {
    let content = """
        [{"url": "https://acme.example/zon", "title": "Zonnepark open", "week": "2026-W49", "texts": ["Deel dit!"]}]
        """

    func deliveries(in directory: TempDirectory) throws -> [String: DeliveryListing] {
        let database = try directory.openDatabase()
        let digest = try #require(try database.digest(week: try ISOWeek(parsing: "2026-W49")))
        return Dictionary(
            uniqueKeysWithValues: try database.deliveries(digestID: digest.id).map { ($0.email ?? "", $0) })
    }

    /// A folder with the fault-injecting relay, a config with `smtp` settings, the people of `rows` (CSV lines after
    /// the header) imported and the week's content.
    func prepared(
        smtp extra: String = "", rejectConnections: Int = 0, people rows: [String], content: String? = nil
    ) throws -> (directory: TempDirectory, server: SMTPServerProcess) {
        let directory = try TempDirectory()
        let server = try SMTPServerProcess(
            directory: directory.url.appendingPathComponent("mail"), rejectConnections: rejectConnections)
        try directory.write("config.json", smtpConfig(port: server.port, certificate: nil, username: nil, extra: extra))
        try directory.write("people.csv", "email,name,language,themes,networks\n" + rows.map { $0 + "\n" }.joined())
        try directory.write("content.json", content ?? self.content)
        _ = try advocate(["ambassadors", "import", "people.csv"], in: directory.url)
        _ = try advocate(["content", "import", "content.json"], in: directory.url)
        return (directory, server)
    }

    @Test("each fault ends in the right ledger state, the run finishes and its exit code says so")
    func faults() throws {
        let addresses = [
            "ok1", "ok2", "rcpt451-a", "rcpt550-a", "data454-a", "drop-a", "stall-a", "stalldata-a", "ok3",
            "rcpt421-a",
        ].map { "\($0)@example.org" }
        let (directory, server) = try prepared(
            smtp: """
                "connections": 1, "maxAttempts": 3, "retryBaseSeconds": 0.2, "timeoutSeconds": 2,
                "connectTimeoutSeconds": 2, "retryWithinRunSeconds": 30
                """,
            rejectConnections: 2, people: addresses.map { "\($0),Tester,nl,,x" })

        let run = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        #expect(run.status == 3, "partial failure has its own exit code: \(run.stdout)\(run.stderr)")
        let ledger = try deliveries(in: directory)
        func state(_ local: String) -> (DeliveryStatus?, Int?) {
            (ledger["\(local)@example.org"]?.status, ledger["\(local)@example.org"]?.attempts)
        }
        #expect(state("ok1") == (.sent, 1), "421 at connect is retried, and is no attempt on the recipient")
        #expect(state("ok2") == (.sent, 1))
        #expect(state("ok3") == (.sent, 1))
        #expect(state("rcpt451-a") == (.sent, 2), "451 on RCPT is retried")
        #expect(state("rcpt550-a") == (.failed, 1), "550 is permanent, never retried")
        #expect(ledger["rcpt550-a@example.org"]?.lastError?.hasPrefix("550") == true)
        #expect(state("data454-a") == (.sent, 2), "454 after DATA is retried")
        #expect(state("drop-a") == (.inDoubt, 1), "a cut after the final dot leaves the outcome unknown")
        #expect(state("stall-a") == (.failed, 3), "a stall before the message is temporary until attempts run out")
        #expect(ledger["stall-a@example.org"]?.lastError?.hasPrefix("gave up after 3 attempts") == true)
        #expect(state("rcpt421-a") == (.failed, 3), "a 421 to RCPT (a rate limit) counts like any 4xx")
        #expect(state("stalldata-a") == (.inDoubt, 1), "a timeout after the final dot is in doubt")

        var received = server.receivedCounts()
        #expect(
            received == [
                "ok1@example.org": 1, "ok2@example.org": 1, "ok3@example.org": 1, "rcpt451-a@example.org": 1,
                "data454-a@example.org": 1, "drop-a@example.org": 1, "stalldata-a@example.org": 1,
            ])

        let again = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        #expect(again.status == 3)
        #expect(again.stdout.contains("0 sent in this run (0 attempts"), "in doubt and failed are not retried")
        #expect(server.received().count == 7)

        let status = try advocate(["digest", "status", "--week", "2026-W49", "--status", "inDoubt"], in: directory.url)
        #expect(status.stdout.contains("drop-a@example.org") && status.stdout.contains("stalldata-a@example.org"))

        let resend = try advocate(["digest", "send", "--week", "2026-W49", "--resend-in-doubt"], in: directory.url)
        #expect(resend.stdout.contains("2 attempts"))
        received = server.receivedCounts()
        #expect(received["drop-a@example.org"] == 2, "--resend-in-doubt sends again")
    }

    @Test(
        "a cut or a silence after the last byte is in doubt and never resent, in both languages and at every size",
        arguments: [0, 2_000, 60_000])
    func cutAfterLastByte(summaryLength: Int) throws {
        let locals = ["drop-nl", "drop-en", "stalldata-nl", "stalldata-en", "ok-nl", "ok-en"]
        let summary = String(repeating: "Samen bouwen we aan zon en wind. ", count: summaryLength / 33)
        let (directory, server) = try prepared(
            smtp: "\"connections\": 1, \"timeoutSeconds\": 2, \"retryBaseSeconds\": 0.1",
            people: locals.map { "\($0)@example.org,Tester,\($0.suffix(2)),,linkedin;x" },
            content: """
                [{"url": "https://acme.example/zon", "title": "Zonnepark open", "week": "2026-W49",
                  "summary": "\(summary)", "texts": ["Deel dit!"]}]
                """)

        for _ in 1...3 {
            let run = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
            #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        }
        let received = server.receivedCounts()
        #expect(received == Dictionary(uniqueKeysWithValues: locals.map { ("\($0)@example.org", 1) }))
        let ledger = try deliveries(in: directory)
        for local in locals where !local.hasPrefix("ok") {
            #expect(ledger["\(local)@example.org"]?.status == .inDoubt, "\(local)")
            #expect(ledger["\(local)@example.org"]?.attempts == 1, "\(local)")
        }
    }

    @Test(
        "a relay that turns connections away uses up no attempts: sent once it answers, else waiting for the next run")
    func relayDown() throws {
        let smtp = """
            "connections": 1, "maxAttempts": 2, "retryBaseSeconds": 0.05, "timeoutSeconds": 2,
            "connectTimeoutSeconds": 2
            """
        // Six connections turned away (421): with two attempts allowed, each would once have been one, and the
        // person would have been given up on after the second.
        let (directory, server) = try prepared(
            smtp: smtp + ", \"retryWithinRunSeconds\": 30", rejectConnections: 6, people: ["ok1@example.org,A,nl,,x"])
        let run = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("\"unreachableThisRun\" : 6"))
        let sent = try #require(try deliveries(in: directory)["ok1@example.org"])
        #expect(sent.status == .sent && sent.attempts == 1)
        #expect(server.receivedCounts() == ["ok1@example.org": 1])

        // Down for longer than the run's patience: the run ends, the delivery waits with no attempt used.
        let (down, busy) = try prepared(
            smtp: smtp + ", \"retryWithinRunSeconds\": 1", rejectConnections: 1_000, people: ["ok2@example.org,B,nl,,x"]
        )
        let gaveUp = try advocate(["digest", "send", "--week", "2026-W49"], in: down.url)
        #expect(gaveUp.status == 3, "\(gaveUp.stdout)\(gaveUp.stderr)")
        #expect(gaveUp.stdout.contains("not sent: relay unreachable"))
        let waiting = try #require(try deliveries(in: down)["ok2@example.org"])
        #expect(waiting.status == .retry && waiting.attempts == 0, "\(waiting)")
        #expect(waiting.lastError?.hasPrefix("421") == true, "\(waiting.lastError ?? "")")
        #expect(busy.receivedCounts().isEmpty)

        // A relay that is not there at all (connection refused) is the same.
        let (gone, stopped) = try prepared(
            smtp: smtp + ", \"retryWithinRunSeconds\": 1", people: ["ok3@example.org,C,nl,,x"])
        stopped.stop()
        let refused = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: gone.url)
        #expect(refused.status == 3)
        #expect(!refused.stdout.contains("\"unreachableThisRun\" : 0"))
        let still = try #require(try deliveries(in: gone)["ok3@example.org"])
        #expect(still.status == .retry && still.attempts == 0, "\(still)")
    }

    @Test("killed before the end of a message was handed over: sent again; after it: in doubt")
    func killBeforeAndAfterTheEnd() throws {
        let directory = try TempDirectory()
        let server = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        try directory.write(
            "config.json",
            smtpConfig(port: server.port, certificate: nil, username: nil, extra: "\"connections\": 1"))
        try directory.write("content.json", content)
        _ = try advocate(["content", "import", "content.json"], in: directory.url)

        /// Starts a send, waits until the server holds the transaction of `recipient`, and kills the process.
        func killWhileStalled(until condition: () -> Bool) throws {
            let process = try startAdvocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
            #expect(waitUntil(timeout: 20) { condition() })
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        // RCPT never answers the first time: the message was certainly not delivered.
        try directory.write("people.csv", "email,name,language,themes,networks\nstallonce-a@example.org,A,en,,x\n")
        _ = try advocate(["ambassadors", "import", "people.csv"], in: directory.url)
        try killWhileStalled { server.stalls() >= 1 }
        let again = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("\"requeuedAfterStop\" : 1"))
        let resent = try #require(try deliveries(in: directory)["stallonce-a@example.org"])
        // The killed transaction never reached its end: only the claim was left, and it was not an attempt.
        #expect(resent.status == .sent && resent.attempts == 1)
        #expect(server.received().map(\.recipient) == ["stallonce-a@example.org"])

        // The whole message was taken and the reply never comes: it may have been delivered.
        try directory.write("people.csv", "email,name,language,themes,networks\nstalldata-b@example.org,B,en,,x\n")
        _ = try advocate(["ambassadors", "import", "people.csv"], in: directory.url)
        try killWhileStalled { server.received().count >= 2 }
        let after = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
        #expect(after.status == 3)
        #expect(after.stdout.contains("\"abandonedInDoubt\" : 1"))
        let doubt = try #require(try deliveries(in: directory)["stalldata-b@example.org"])
        #expect(doubt.status == .inDoubt && doubt.attempts == 1)
        #expect(doubt.lastError?.contains("after the end of this message was handed over") == true)
        #expect(server.received().count == 2, "nothing was sent twice")
    }

    @Test("one connection is reused across messages, reopened after reconnectAfter, and maxPerSecond spaces sends")
    func connectionReuseAndRate() throws {
        let (directory, server) = try prepared(
            smtp: "\"connections\": 1, \"reconnectAfter\": 2, \"maxPerSecond\": 4",
            people: (1...6).map { "p\($0)@example.org,P,nl,,x" })

        let start = Date()
        let run = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        let elapsed = Date().timeIntervalSince(start)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(server.received().count == 6)
        #expect(server.connections() == 3, "six messages, two per connection")
        #expect(elapsed >= 1.2, "at 4 per second, six sends need at least 1.25 s")
    }

    @Test("one relay that never answers a final dot holds the others' ends back, and they are sent again, not in doubt")
    func stalledEndAmongConnections() throws {
        let others = (1...6).map { "ok\($0)@example.org" }
        let (directory, server) = try prepared(
            // One attempt each: a message held back is not an attempt, so it is still tried (not failed).
            smtp: """
                "connections": 3, "maxAttempts": 1, "retryBaseSeconds": 0.1, "timeoutSeconds": 2,
                "retryWithinRunSeconds": 30
                """,
            people: (["stalldata-a@example.org"] + others).map { "\($0),Tester,nl,,x" })

        // --limit 7 is one attempt per person: a message held back must not use up a share of it.
        let run = try advocate(["digest", "send", "--week", "2026-W49", "--json", "--limit", "7"], in: directory.url)
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        let ledger = try deliveries(in: directory)
        #expect(ledger["stalldata-a@example.org"]?.status == .inDoubt)
        for address in others {
            #expect(ledger[address]?.status == .sent, "\(address): \(ledger[address]?.lastError ?? "")")
            // Held back is not an attempt: each was tried once, however often it waited.
            #expect(ledger[address]?.attempts == 1, "\(address)")
        }
        let received = server.receivedCounts()
        #expect(others.allSatisfy { received[$0] == 1 }, "\(received)")
        let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let heldBack = try #require(summary?["heldBackThisRun"] as? Int)
        #expect(heldBack >= 1, "a message that waited behind the stalled reply was held back and sent again")
        #expect(summary?["attemptsThisRun"] as? Int == others.count + 1, "held back messages are not attempts")
    }

    @Test(
        "someone who pauses, unsubscribes or is removed while the run sends gets nothing: their end is withheld")
    func leftWhileSending() throws {
        let (directory, server) = try prepared(
            smtp: "\"connections\": 1, \"maxPerSecond\": 2",
            people: (1...16).map { "p\($0)@example.org,P \($0),nl,,x" })
        let output = directory.url.appendingPathComponent("run.json")
        // --limit 15: the three withheld messages are not attempts and give their share back, so p16 is still sent.
        let run = try startAdvocate(
            ["digest", "send", "--week", "2026-W49", "--json", "--limit", "15"], in: directory.url, output: output)
        // The run claims everyone at its start. Once it sends, p13 pauses through the week, p14 unsubscribes and
        // p15 is removed: at two messages a second, theirs are more than six seconds away, and they were claimed
        // before they left.
        #expect(waitUntil(timeout: 60) { !server.received().isEmpty })
        // A month from today: within the pause's limit whenever the suite runs, and past the week's Monday.
        let until = CalendarDay(Date().addingTimeInterval(30 * 86_400), in: .current).description
        let pause = try advocate(["ambassadors", "set", "p13@example.org", "--pause-until", until], in: directory.url)
        #expect(pause.status == 0, "\(pause.stderr)")
        let unsubscribe = try advocate(
            ["ambassadors", "set", "p14@example.org", "--status", "unsubscribed"], in: directory.url)
        #expect(unsubscribe.status == 0, "\(unsubscribe.stderr)")
        let remove = try advocate(["ambassadors", "remove", "p15@example.org"], in: directory.url)
        #expect(remove.status == 0, "\(remove.stderr)")
        run.waitUntilExit()
        #expect(run.terminationStatus == 0, "\((try? String(contentsOf: output, encoding: .utf8)) ?? "")")

        let received = server.receivedCounts()
        let stayed = (1...16).filter { !(13...15).contains($0) }.map { "p\($0)@example.org" }
        #expect(stayed.allSatisfy { received[$0] == 1 }, "\(received)")
        #expect((13...15).allSatisfy { received["p\($0)@example.org"] == nil }, "\(received)")
        let ledger = try deliveries(in: directory)
        #expect(ledger["p13@example.org"]?.status == .skipped && ledger["p13@example.org"]?.attempts == 0)
        #expect(ledger["p13@example.org"]?.lastError == "paused until \(until)")
        #expect(ledger["p14@example.org"]?.status == .skipped && ledger["p14@example.org"]?.attempts == 0)
        #expect(ledger["p14@example.org"]?.lastError?.hasPrefix("the ambassador is unsubscribed") == true)
        #expect(ledger[""]?.status == .skipped && ledger[""]?.attempts == 0, "the removed person's delivery, nameless")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]
        #expect(summary?["sentThisRun"] as? Int == 13)
        #expect(summary?["attemptsThisRun"] as? Int == 13, "withheld ends are not attempts")
    }

    @Test("ends are paced: against a relay that syncs each message, a run is in doubt at most inDoubtShare of the time")
    func endsArePaced() throws {
        func measure(_ smtp: String) throws -> (share: Double, perMessage: Double) {
            let (directory, server) = try prepared(
                smtp: smtp, people: (1...400).map { "p\($0)@example.org,P \($0),\($0 % 2 == 0 ? "nl" : "en"),,x" })
            let run = try advocate(["digest", "send", "--week", "2026-W49", "--json"], in: directory.url)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            #expect(server.received().count == 400)
            let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            return (
                try #require(summary?["inDoubtShare"] as? Double),
                try #require(summary?["inDoubtSecondsPerMessage"] as? Double)
            )
        }
        let unpaced = try measure("\"inDoubtShare\": 1").share
        let paced = try measure("")
        let byDefault = paced.share
        // The time per message in doubt is given (its arithmetic is EndGateTests').
        #expect(paced.perMessage > 0, "\(paced)")
        let quarter = try measure("\"inDoubtShare\": 0.25").share
        print("in doubt: \(unpaced) unpaced, \(byDefault) by default, \(quarter) at 0.25")
        // On SQLite about 0.9 unpaced; on PostgreSQL, whose commits wait for the disk, about 0.6.
        #expect(unpaced > quarter + 0.25, "unpaced, this relay keeps a message in doubt much longer")
        // Within the share, plus the pace's burst of 10 ms over a run of about a second.
        #expect(byDefault <= 0.53, "the default keeps the goal: at most half the time in doubt")
        #expect(quarter <= 0.28)
    }

    @Test(
        "kill -9 at random moments: every recipient gets exactly one message; at most 0.5 in doubt per kill"
    )
    func killAndRerun() throws {
        let count = 3_000
        // A fifth of the time in doubt, well under the goal: forty kills then tell whether the goal is kept. Kills
        // early in a run find a message in doubt a little more often than the share (about 0.3 per kill at 0.25,
        // measured), and even at 0.3 per kill more than 20 of 40 happens about once in 400 runs; unpaced, nearly
        // every kill leaves one against this relay, which syncs each message before it answers.
        let (directory, server) = try prepared(
            smtp: "\"inDoubtShare\": 0.2",
            people: (1...count).map { "person\($0)@example.org,Person \($0),\($0 % 2 == 0 ? "nl" : "en"),,linkedin;x" })

        // Forty runs, each killed at a random moment once it is sending (a crash does not wait for a good moment;
        // the first message of the run is the sign that it is past its start-up).
        var kills = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 where server.received().count < count {
            let before = server.received().count
            let process = try startAdvocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
            waitUntil(timeout: 120) { !process.isRunning || server.received().count > before }
            // A random moment within the next 0.4 s, unless the run ends first.
            let moment = Double.random(in: 0...0.4, using: &generator)
            _ = waitUntil(timeout: moment) { !process.isRunning }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        #expect(kills >= 30, "the test must really interrupt runs")
        let beforeFinish = server.received().count
        #expect(beforeFinish > 0)

        var final = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        for _ in 0..<3 where final.status != 0 && final.status != 3 {
            final = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        }
        #expect(final.status == 0 || final.status == 3, "\(final.stdout)\(final.stderr)")

        let ledger = try deliveries(in: directory)
        #expect(ledger.count == count)
        let (received, doubtful) = expectMailedOnce(Array(ledger.values), server: server)
        let inDoubt = doubtful.count
        let neverArrived = doubtful.filter { received[$0] == nil }.count
        print(
            "kill test: \(kills) kills, \(inDoubt) in doubt (\(String(format: "%.2f", Double(inDoubt) / Double(kills)))"
                + " per kill, \(neverArrived) of them never arrived), \(received.count) received of \(count)")
        // A delivery killed before its end was handed over is retried; only one message of a run at a time can be
        // between its end and its recorded reply, and only for a paced share of the time. (Only the moment between
        // the ledger's note and the last bytes' write can leave one in doubt that never arrived, so that count is
        // printed, not asserted.)
        #expect(Double(inDoubt) <= 0.5 * Double(kills), "the goal: at most 0.5 in doubt per kill on average")
    }
}
