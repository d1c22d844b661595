import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("advocate invite against a real SMTP server", .serialized)
struct InvitationTests {
    func prepare() throws -> (TempDirectory, SMTPServerProcess) {
        let directory = try TempDirectory()
        let server = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        try directory.write("config.json", smtpConfig(port: server.port, certificate: nil, username: nil))
        return (directory, server)
    }

    /// The context of `directory`'s config.json, on the fixed clock.
    func context(_ directory: TempDirectory) throws -> AppContext {
        try AppContext.load(
            configPath: directory.path("config.json"),
            environment: ["ADVOCATE_LINK_KEYS": testLinkKeys].merging(TestBackend.environment) { $1 },
            now: { fixedNow })
    }

    @Test("invitations: personal mail and link, nobody twice, --force, members, unsubscribed and removed left out")
    func rules() throws {
        let (directory, server) = try prepare()
        try directory.write(
            "colleagues.csv", "email,name,language\ncas@example.org,Cas Jansen,nl\ndee@example.org,Dee Brown,en\n")
        let first = try advocate(
            ["invite", "ann@example.org", "bob@example.org", "colleagues.csv", "--language", "en"], in: directory.url)
        #expect(!first.stdout.contains("skipped"))
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("Queued 4 invitation(s)"))
        #expect(
            server.receivedCounts() == [
                "ann@example.org": 1, "bob@example.org": 1, "cas@example.org": 1, "dee@example.org": 1,
            ])
        let mails = try server.parsedMessages()
        let cas = try #require(mails.first { $0["toAddress"] as? String == "cas@example.org" })
        #expect(cas["subject"] as? String == "Cas, deel jij wat Advocate maakt?")
        #expect((cas["text"] as? String)?.contains("https://advocate.example.org/join?invite=") == true)
        #expect((cas["messageID"] as? String)?.hasPrefix("<advocate.invite.") == true)

        let again = try advocate(["invite", "ann@example.org", "colleagues.csv"], in: directory.url)
        #expect(again.status == 0)
        #expect(again.stdout.contains("Queued 0 invitation(s); skipped 3 invited recently"))
        #expect(server.received().count == 4, "a re-run mails nobody twice")

        let forced = try advocate(["invite", "ann@example.org", "--force"], in: directory.url)
        #expect(forced.stdout.contains("Queued 1 invitation(s)"))
        #expect(server.receivedCounts()["ann@example.org"] == 2, "--force invites again")

        for (email, name) in [("eve@example.org", "Eve"), ("fay@example.org", "Fay"), ("gus@example.org", "Gus")] {
            #expect(try advocate(["ambassadors", "add", email, "--name", name], in: directory.url).status == 0)
        }
        #expect(
            try advocate(["ambassadors", "set", "fay@example.org", "--status", "unsubscribed"], in: directory.url)
                .status == 0)
        #expect(try advocate(["ambassadors", "remove", "gus@example.org"], in: directory.url).status == 0)
        let left = try advocate(["invite", "eve@example.org", "fay@example.org", "gus@example.org"], in: directory.url)
        #expect(left.stdout.contains("Queued 0 invitation(s)"))
        #expect(left.stdout.contains("1 unsubscribed (fay@example.org)"))
        #expect(left.stdout.contains("1 removed (gus@example.org)"))
        #expect(left.stdout.contains("1 already ambassadors (eve@example.org)"))
        let forcedBack = try advocate(
            ["invite", "eve@example.org", "fay@example.org", "gus@example.org", "--force"], in: directory.url)
        #expect(forcedBack.stdout.contains("Queued 2 invitation(s)"), "never an active member, even with --force")
        let counts = server.receivedCounts()
        #expect(counts["fay@example.org"] == 1 && counts["gus@example.org"] == 1)
        #expect(counts["eve@example.org"] == nil)

        let status = try advocate(["invite", "--status", "--json"], in: directory.url)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 7)
        #expect(list.allSatisfy { $0["status"] as? String == "sent" })

        let bad = try advocate(["invite", "not-an-address"], in: directory.url)
        #expect(bad.status == 64 && bad.stderr.contains("neither a .csv file nor an e-mail address"))
    }

    @Test("a relay that stays unreachable: the run pauses, stops after its patience, and uses up no attempts")
    func relayDown() throws {
        let directory = try TempDirectory()
        let server = try SMTPServerProcess(
            directory: directory.url.appendingPathComponent("mail"), rejectConnections: 1_000)
        try directory.write(
            "config.json",
            smtpConfig(
                port: server.port, certificate: nil, username: nil,
                extra: "\"connections\": 1, \"retryBaseSeconds\": 0.05, \"retryWithinRunSeconds\": 1"))
        let people = (1...30).map { "p\($0)@example.org,P\($0),en" }
        try directory.write("people.csv", "email,name,language\n" + people.joined(separator: "\n") + "\n")
        let run = try advocate(["invite", "people.csv"], in: directory.url)
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("not sent: relay unreachable"), "\(run.stdout)")
        // Paused ever longer (0.05, 0.1, 0.2 … s) and stopped after a second: far fewer tries than invitations.
        let tries = server.connections()
        #expect(tries >= 2 && tries < 20, "\(tries) connections")
        let status = try advocate(["invite", "--status", "--json"], in: directory.url)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 30)
        #expect(list.allSatisfy { $0["attempts"] as? Int == 0 && $0["status"] as? String != "sent" })
        #expect(server.received().isEmpty)
    }

    @Test("kill -9 during an invitation run: re-running until done invites everyone exactly once")
    func killAndRerun() throws {
        let (directory, server) = try prepare()
        let total = 1_200
        try directory.write(
            "many.csv",
            "email,name,language\n" + (1...total).map { "person\($0)@example.org,Person \($0),en\n" }.joined())
        var kills = 0
        for step in [200, 300, 250] {
            let target = server.received().count + step
            let process = try startAdvocate(["invite", "many.csv"], in: directory.url)
            waitUntil(timeout: 120) { !process.isRunning || server.received().count >= target }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        #expect(kills >= 2, "the test must really interrupt runs")
        let final = try advocate(["invite", "many.csv"], in: directory.url)
        #expect(final.status == 0, "the last run sent all it tried: \(final.stdout)\(final.stderr)")
        let received = server.receivedCounts()
        #expect(received.values.allSatisfy { $0 == 1 }, "nobody was invited twice")
        let status = try advocate(["invite", "--status", "--json"], in: directory.url)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == total, "one invitation per person, however often the run was started")
        let inDoubt = list.filter { $0["status"] as? String == "inDoubt" }.count
        #expect(list.filter { $0["status"] as? String == "sent" }.count + inDoubt == total)
        #expect(received.count >= total - inDoubt)
        #expect(inDoubt <= kills * 4, "at most the in-flight invitations of each killed run are in doubt")
        print("invite kill test: \(kills) kills, \(inDoubt) in doubt, \(received.count) received of \(total)")
    }

    @Test("killed before the end of an invitation was handed over: sent by the next run, one attempt")
    func killBeforeTheEnd() throws {
        let (directory, server) = try prepare()
        // RCPT never answers the first time: the run is killed while its transaction waits.
        let process = try startAdvocate(["invite", "stallonce-a@example.org"], in: directory.url)
        #expect(waitUntil(timeout: 20) { server.stalls() >= 1 })
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let again = try advocate(["invite", "stallonce-a@example.org"], in: directory.url)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(server.receivedCounts() == ["stallonce-a@example.org": 1])
        let status = try advocate(["invite", "--status", "--json"], in: directory.url)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["status"] as? String == "sent")
        // Nothing was written before the end: the killed transaction was not an attempt.
        #expect(list.first?["attempts"] as? Int == 1, "\(list)")
    }

    @Test("a queued invitation is not sent to someone who joined (or joined and left) meanwhile, nor to the erased")
    func settledBeforeSending() throws {
        let (directory, server) = try prepare()
        let context = try context(directory)
        let database = try context.openDatabase()
        // Someone who left before being invited again with --force is invited.
        let earlier = try database.addAmbassador(
            Ambassador(email: "forced@example.org", name: "F", language: .en, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        try database.setStatus(.unsubscribed, ambassadorID: earlier.id!, now: fixedNow.addingTimeInterval(-3_600))
        let queued = try database.queueInvitations(
            ["joined", "erased", "plain", "left", "forced"].map {
                InvitationRequest(email: "\($0)@example.org", name: $0, language: .en)
            }, force: true, cooldownDays: 30, now: fixedNow)
        #expect(queued.queued.count == 5)
        for email in ["joined@example.org", "erased@example.org", "left@example.org"] {
            _ = try database.addAmbassador(
                Ambassador(email: email, name: "X", language: .en, networks: [.x], joinedAt: fixedNow), now: fixedNow)
        }
        let left = try #require(try database.ambassador(email: "left@example.org"))
        try database.setStatus(.unsubscribed, ambassadorID: left.id!, now: fixedNow.addingTimeInterval(60))
        #expect(try database.removeAmbassador(email: "erased@example.org"))
        let summary = try context.makeInvitationSender(database: database).run()
        #expect(summary.sent == 2 && summary.exitCode == 0)
        #expect(Set(server.received().map(\.recipient)) == ["plain@example.org", "forced@example.org"])
        let settled = Dictionary(uniqueKeysWithValues: try database.invitations().map { ($0.email, $0) })
        #expect(settled["joined@example.org"]?.status == .failed)
        #expect(settled["joined@example.org"]?.lastError == "not sent: already an ambassador")
        #expect(settled["left@example.org"]?.status == .failed)
        #expect(settled["left@example.org"]?.lastError == "not sent: joined and unsubscribed after it was queued")
        #expect(settled["erased@example.org"] == nil)
    }

    @Test("an invitation settled while it is being sent is refused at hand-over: its end is not sent")
    func settledAtHandOver() throws {
        let (directory, _) = try prepare()
        let context = try context(directory)
        let database = try context.openDatabase()
        _ = try database.queueInvitations(
            ["joined", "plain", "late"].map { InvitationRequest(email: "\($0)@example.org", name: $0, language: .en) },
            force: false, cooldownDays: 30, now: fixedNow)
        let listed = Dictionary(uniqueKeysWithValues: try database.invitations().map { ($0.email, $0.id) })
        // The person joins while the run sends the invitation; the run settles it.
        _ = try database.addAmbassador(
            Ambassador(email: "joined@example.org", name: "J", language: .en, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        #expect(try database.settleInvitationsOfMembers(now: fixedNow) == 1)
        #expect(throws: NoLongerDue.self) {
            try database.markInvitationHandedOver(id: listed["joined@example.org"]!, messageID: "<j@x>", now: fixedNow)
        }
        try database.markInvitationHandedOver(id: listed["plain@example.org"]!, messageID: "<p@x>", now: fixedNow)
        let after = Dictionary(uniqueKeysWithValues: try database.invitations().map { ($0.email, $0) })
        #expect(after["joined@example.org"]?.status == .failed && after["joined@example.org"]?.attempts == 0)
        #expect(after["plain@example.org"]?.status == .sending && after["plain@example.org"]?.attempts == 1)

        // Joins after the run's last settling, while the invitation's end is about to leave: refused and settled
        // at hand-over itself.
        _ = try database.addAmbassador(
            Ambassador(email: "late@example.org", name: "L", language: .en, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        #expect(throws: NoLongerDue.self) {
            try database.markInvitationHandedOver(id: listed["late@example.org"]!, messageID: "<l@x>", now: fixedNow)
        }
        let late = try #require(try database.invitations().first { $0.email == "late@example.org" })
        #expect(late.status == .failed && late.attempts == 0 && late.lastError == "not sent: already an ambassador")
    }

    @Test(
        "an invitation's never-invite-me-again link: List-Unsubscribe one-click on a real server stops later invitations, even with --force; a GET or an empty POST changes nothing"
    )
    func optOut() throws {
        let (directory, server) = try prepare()
        try directory.write(
            "config.json",
            smtpConfig(port: server.port, certificate: nil, username: nil).replacingOccurrences(
                of: #"{"databasePath""#, with: #"{"server": {"host": "127.0.0.1", "port": 0}, "databasePath""#))
        let sent = try advocate(
            ["invite", "ann@example.org", "bob@example.org", "--language", "en"], in: directory.url)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        var mails = try server.parsedMessages()
        func optOutLink(_ address: String) throws -> String {
            let mail = try #require(mails.first { $0["toAddress"] as? String == address })
            let header = try #require(mail["listUnsubscribe"] as? String)
            #expect(header.hasPrefix("<https://advocate.example.org/u/") && header.hasSuffix(">"), "\(header)")
            #expect(mail["listUnsubscribePost"] as? String == "List-Unsubscribe=One-Click")
            let link = String(header.dropFirst().dropLast())
            let text = (mail["text"] as? String ?? "").replacingOccurrences(of: "\r\n", with: "\n")
            #expect(text.contains("Never invite me again:\n\(link)"), "\(text)")
            #expect((mail["html"] as? String)?.contains("href=\"\(link)\"") == true)
            return link
        }
        let (ann, bob) = (try optOutLink("ann@example.org"), try optOutLink("bob@example.org"))
        #expect(ann != bob, "each invitation has its own link")

        let serve = try ServerProcess(directory: directory.url)
        defer { serve.stop() }
        let database = try context(directory).openDatabase()
        let base = "https://advocate.example.org"
        let page = try http(serve.baseURL + ann.dropFirst(base.count))
        #expect(page.status == 200 && page.body.contains("Never invite you again?"), "\(page.body)")
        #expect(page.body.contains("value=\"stopInvitations\"") && page.body.contains("Never invite me again"))
        #expect(try !database.isSuppressed("ann@example.org"), "a GET (a scanner's) changes nothing")
        let form = ["Content-Type: application/x-www-form-urlencoded"]
        let empty = try http(serve.baseURL + bob.dropFirst(base.count), method: "POST", body: "", headers: form)
        #expect(empty.status == 400)
        #expect(try !database.isSuppressed("bob@example.org"))
        for _ in 0..<2 {
            let stopped = try http(
                serve.baseURL + ann.dropFirst(base.count), method: "POST", body: "List-Unsubscribe=One-Click",
                headers: form)
            #expect(stopped.status == 200 && stopped.body.contains("You will not be invited again"), "\(stopped)")
        }
        #expect(try database.isSuppressed("ann@example.org"))
        #expect(try http(serve.baseURL + ann.dropFirst(base.count)).body.contains("You will not be invited again"))

        let again = try advocate(["invite", "ann@example.org", "bob@example.org", "--force"], in: directory.url)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(
            again.stdout.contains("Queued 1 invitation(s); skipped 1 asked not to be invited again (ann@example.org)."),
            "no hint to use --force when it would change nothing: \(again.stdout)")
        #expect(server.receivedCounts() == ["ann@example.org": 1, "bob@example.org": 2])

        // Erased first, invited again with --force, then opting out through that invitation's page (its form, not
        // the one-click): never invited again either.
        #expect(
            try advocate(["ambassadors", "add", "cas@example.org", "--name", "Cas"], in: directory.url).status == 0)
        #expect(try advocate(["ambassadors", "remove", "cas@example.org"], in: directory.url).status == 0)
        #expect(
            try advocate(["invite", "cas@example.org", "--force", "--language", "en"], in: directory.url).status == 0)
        mails = try server.parsedMessages()
        let cas = try optOutLink("cas@example.org")
        let pressed = try http(
            serve.baseURL + cas.dropFirst(base.count), method: "POST", body: "action=stopInvitations", headers: form)
        #expect(pressed.status == 200 && pressed.body.contains("You will not be invited again"), "\(pressed)")
        let forcedCas = try advocate(["invite", "cas@example.org", "--force", "--language", "en"], in: directory.url)
        #expect(forcedCas.stdout.contains("1 asked not to be invited again (cas@example.org)"), "\(forcedCas.stdout)")
        #expect(server.receivedCounts()["cas@example.org"] == 1)

        // A queued invitation of an address that opts out through an earlier one is settled unsent.
        let queued = try database.queueInvitations(
            [InvitationRequest(email: "bob@example.org", name: "Bob", language: .en)], force: true, cooldownDays: 30,
            now: fixedNow)
        #expect(queued.queued == ["bob@example.org"])
        let first = try #require(try database.invitations().last { $0.email == "bob@example.org" })
        #expect(try database.stopInvitations(id: first.id, now: fixedNow)?.email == "bob@example.org")
        let latest = try #require(try database.invitations().first { $0.email == "bob@example.org" })
        #expect(latest.status == .failed && latest.lastError == "not sent: asked not to be invited again")
        #expect(try !database.invitationIsDue(id: latest.id))

        // An import does not enrol someone who opted out (and says so); adding them one by one does, for someone
        // who agreed after all; erasing them later keeps the opt-out.
        try directory.write("staff.csv", "email,name\nann@example.org,Ann\ndee@example.org,Dee\n")
        let imported = try advocate(["ambassadors", "import", "staff.csv"], in: directory.url)
        #expect(imported.stdout.contains("1 added"), "\(imported.stdout)")
        #expect(imported.stdout.contains("left out 1 who asked never to be invited"), "\(imported.stdout)")
        #expect(try database.ambassador(email: "ann@example.org") == nil)
        #expect(
            try advocate(["ambassadors", "add", "ann@example.org", "--name", "Ann"], in: directory.url).status == 0)
        #expect(try database.ambassador(email: "ann@example.org") != nil)
        #expect(try advocate(["ambassadors", "remove", "ann@example.org"], in: directory.url).status == 0)
        let removed = try advocate(["invite", "ann@example.org", "--force"], in: directory.url)
        #expect(removed.stdout.contains("1 asked not to be invited again (ann@example.org)"), "\(removed.stdout)")
        #expect(server.receivedCounts()["ann@example.org"] == 1)
    }
}
