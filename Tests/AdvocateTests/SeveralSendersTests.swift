import Advocate
import AdvocateCore
import Foundation
import Testing

/// Several `digest send` processes of one week on one PostgreSQL database: they share the deliveries row by row,
/// and a killed one's work is finished by the others.
@Suite(
    "Several senders of one week on PostgreSQL", .serialized,
    .disabled(if: TestBackend.postgres, "uses the cluster on its own; it ran in the SQLite pass"))
struct SeveralSendersTests {
    let content = """
        [{"url": "https://acme.example/zon", "title": "Zonnepark open", "week": "2026-W49", "texts": ["Deel dit!"]}]
        """
    let send = ["digest", "send", "--week", "2026-W49"]

    @Test(
        "two senders share 5,000 ambassadors while one is killed -9 again and again: everyone mailed once, nobody twice"
    )
    func twoSendersAndKills() throws {
        let cluster = try PostgresCluster.shared()
        let url = try cluster.makeDatabase()
        let environment = [Secrets.databasePasswordName: PostgresCluster.password]
        let directory = try TempDirectory(sqliteOnly: true)
        let server = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        try directory.write(
            "config.json",
            smtpConfig(port: server.port, certificate: nil, username: nil).replacingOccurrences(
                of: "\"databasePath\": \"data/advocate.sqlite\"", with: "\"databaseURL\": \"\(url)\""))
        let count = 5_000
        try directory.write(
            "people.csv",
            "email,name,language,themes,networks\n"
                + (1...count).map { "person\($0)@example.org,Person \($0),\($0 % 2 == 0 ? "nl" : "en"),,linkedin\n" }
                .joined())
        try directory.write("content.json", content)
        #expect(
            try advocate(["ambassadors", "import", "people.csv"], in: directory.url, environment: environment).status
                == 0)
        #expect(
            try advocate(["content", "import", "content.json"], in: directory.url, environment: environment).status == 0
        )

        // Sender A runs undisturbed; sender B is started beside it and killed at a random moment, again and again.
        let summary = directory.url.appendingPathComponent("a.out")
        let first = try startAdvocate(send, in: directory.url, environment: environment, output: summary)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        waitUntil(timeout: 120) { !first.isRunning || !server.received().isEmpty }
        var kills = 0
        var generator = SystemRandomNumberGenerator()
        while first.isRunning && kills < 12 {
            let second = try startAdvocate(send, in: directory.url, environment: environment)
            // Up to 2.5 s: a debug build on a busy machine can take over a second to start sending, and before
            // its first message a kill tests nothing (all 12 kills came that early once, at up to 1.2 s).
            let moment = Double.random(in: 0.3...2.5, using: &generator)
            _ = waitUntil(timeout: moment) { !second.isRunning }
            if second.isRunning {
                kill(second.processIdentifier, SIGKILL)
                kills += 1
            }
            second.waitUntilExit()
        }
        first.waitUntilExit()
        #expect(kills >= 3, "the test must really interrupt a sender")
        let summaryLine = try String(contentsOf: summary, encoding: .utf8)
        #expect([0, 3].contains(first.terminationStatus), "sender A: \(summaryLine)")
        let sentByFirst = Int(summaryLine.firstMatch(of: /: (\d+) sent in this run/)?.1 ?? "") ?? 0

        // Whatever a kill left after A's end (A gives back a dead sender's work only while it runs) is finished by
        // one more run, as the weekly timer's retry would.
        let final = try advocate(send, in: directory.url, environment: environment)
        #expect(final.status == 0 || final.status == 3, "\(final.stdout)\(final.stderr)")
        let sentByLast = Int(final.stdout.firstMatch(of: /: (\d+) sent in this run/)?.1 ?? "") ?? -1
        #expect(sentByFirst > 0 && sentByLast >= 0, "\(summaryLine)\(final.stdout)")

        let database = try cluster.open(url)
        let digest = try #require(try database.digest(week: try ISOWeek(parsing: "2026-W49")))
        let ledger = try database.deliveries(digestID: digest.id)
        #expect(ledger.count == count)
        let (received, doubtful) = expectMailedOnce(ledger, server: server)
        let inDoubt = doubtful.count
        // What neither A nor the last run sent, the killed B runs sent: the work was shared.
        let sentByKilled = ledger.filter { $0.status == .sent }.count - sentByFirst - sentByLast
        #expect(sentByKilled > 0, "sender B sent a share before its kills (A \(sentByFirst), last \(sentByLast))")
        let listed = try advocate(
            ["digest", "status", "--week", "2026-W49", "--status", "inDoubt"], in: directory.url,
            environment: environment)
        #expect(listed.status == 0 && listed.stdout.components(separatedBy: "@example.org").count - 1 == inDoubt)
        print(
            "two senders: \(kills) kills of sender B, A sent \(sentByFirst), the B runs \(sentByKilled), the last run "
                + "\(sentByLast), \(inDoubt) in doubt, "
                + "\(received.count) received of \(count)")
        #expect(inDoubt <= kills * 4, "at most one in-flight message per connection per kill is in doubt")
    }
}
