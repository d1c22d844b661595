import AdvocateCore
import Foundation
import Testing

@testable import Advocate

/// The PostgreSQL backend's own behaviour, always against the throw-away cluster (whatever ADVOCATE_TEST_DATABASE
/// says): clear failures, the schema check, and `store copy` both ways.
@Suite(
    "PostgreSQL store: failures, schema, store copy", .serialized,
    .disabled(if: TestBackend.postgres, "uses the cluster on its own; it ran in the SQLite pass"))
struct PostgresStoreTests {
    let week = try! ISOWeek(parsing: "2026-W48")
    let at = Date(timeIntervalSince1970: 1_795_597_200)
    let environment = [Secrets.databasePasswordName: PostgresCluster.password]

    /// A folder whose config.json names `url` (or the SQLite default when nil).
    func folder(url: String?) throws -> TempDirectory {
        let directory = try TempDirectory(sqliteOnly: true)
        let database = url.map { "\"databaseURL\": \"\($0)\"" } ?? "\"databasePath\": \"data/advocate.sqlite\""
        try directory.write("config.json", "{\(database)}")
        try directory.write("people.csv", "email,name,language,themes,networks\nanke@x.nl,Anke,nl,,x\n")
        return directory
    }

    /// Runs `body` on a new SQLite store and on a new PostgreSQL store: behaviour that must be the same on both.
    /// With the SQLite store, `sqliteFile` is its file (nil for PostgreSQL).
    func onBothStores(_ body: (AppDatabase, _ sqliteFile: String?) throws -> Void) throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let cluster = try PostgresCluster.shared()
        try body(try folder.openDatabase(), folder.path("data/advocate.sqlite"))
        try body(try cluster.open(try cluster.makeDatabase()), nil)
        withExtendedLifetime(folder) {}
    }

    func onBothStores(_ body: (AppDatabase) throws -> Void) throws { try onBothStores { store, _ in try body(store) } }

    /// Tables a database holds, as the superuser sees them.
    func tables(_ database: String) throws -> Set<String> {
        let cluster = try PostgresCluster.shared()
        let output = try cluster.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database: database)
        return Set(output.split(separator: "\n").map(String.init))
    }

    @Test("unreachable, wrong password, no password, a password in the URL: one clear line, exit 1, nothing written")
    func connectionFailures() throws {
        let cluster = try PostgresCluster.shared()
        let url = try cluster.makeDatabase()
        let name = String(url.split(separator: "/").last!)
        let cases: [(url: String, environment: [String: String], message: String)] = [
            ("postgres://advocate@127.0.0.1:\(try freeLoopbackPort())/\(name)", environment, "cannot connect"),
            (url, [Secrets.databasePasswordName: "not-the-password"], "password authentication failed"),
            (url, [:], "set ADVOCATE_DATABASE_PASSWORD"),
            (url.replacingOccurrences(of: "advocate@", with: "advocate:hunter2@"), environment, "holds a password"),
        ]
        for (url, environment, message) in cases {
            let directory = try folder(url: url)
            let result = try advocate(
                ["ambassadors", "import", "people.csv"], in: directory.url,
                environment: [Secrets.databasePasswordName: ""].merging(environment) { $1 })
            #expect(result.status == 1, "\(url): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains(message), "\(url): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
            #expect(!result.stderr.contains(PostgresCluster.password) && !result.stderr.contains("hunter2"))
        }
        #expect(try tables(name).isEmpty, "no migration ran without a valid login")
    }

    @Test("connections the server closed while idle are dropped: the next write and read run on new ones")
    func closedIdleConnections() throws {
        let cluster = try PostgresCluster.shared()
        let url = try cluster.makeDatabase()
        let name = try #require(url.split(separator: "/").last.map(String.init))
        let database = try cluster.open(url)
        _ = try database.appliedMigrations()  // leaves an idle connection in the pool
        func sessions() throws -> Int {
            Int(
                try cluster.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(name)'", database: "postgres"))
                ?? -1
        }
        #expect(try sessions() >= 1)
        // As a restart or an idle timeout would: the server ends every session of the database.
        try cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        #expect(waitUntil(timeout: 10) { (try? sessions()) == 0 })
        _ = try database.addAmbassador(
            Ambassador(email: "anke@x.nl", name: "Anke", language: .nl, networks: [.x], joinedAt: at), now: at)
        #expect(try database.ambassadorCounts()[.active] == 1)
    }

    @Test("sessions carry keepalives, and a write transaction ends once idle for two minutes (its lock with it)")
    func deadWriterTimeouts() throws {
        let cluster = try PostgresCluster.shared()
        let database = try cluster.open(try cluster.makeDatabase())
        let keepalive = try database.read { db in
            try ["tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count"].map {
                try String.fetchOne(db, sql: "SHOW \($0)") ?? ""
            }
        }
        #expect(keepalive == ["30", "10", "3"])
        #expect(
            try database.write { db in try String.fetchOne(db, sql: "SHOW idle_in_transaction_session_timeout") }
                == "2min")
        #expect(
            try database.read { db in try String.fetchOne(db, sql: "SHOW idle_in_transaction_session_timeout") } == "0",
            "reads (a store copy's long one) are not cut off")

        // An invitation run notices that its lock's connection ended (and may have a successor).
        let lock = try database.acquireSendLock(job: "invite")
        #expect(lock.isHeld())
        try cluster.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'advocate invite%'")
        #expect(waitUntil(timeout: 10) { !lock.isHeld() })
        withExtendedLifetime(lock) {}
    }

    @Test("text holding a NUL character is refused by both stores alike, and nothing is written")
    func nulRefusedByBoth() throws {
        try onBothStores { (database: AppDatabase) throws in
            #expect(throws: StoreError.self) {
                try database.addContent(
                    ContentItem(url: "https://acme.example/a", title: "Zon", summary: "zon\u{0}wind", weeks: [week]),
                    now: at)
            }
            #expect(try database.contentItems().isEmpty)
        }
    }

    @Test(
        "the end of a delivery settled meanwhile, whose person left meanwhile, or taken over, is refused at hand-over on both stores"
    )
    func handOverChecks() throws {
        try onBothStores { (database: AppDatabase) throws in
            var ids: [Int64] = []
            for name in ["anke", "bob", "carla", "dirk"] {
                ids.append(
                    try database.addAmbassador(
                        Ambassador(email: "\(name)@x.nl", name: name, language: .nl, networks: [.x], joinedAt: at),
                        now: at
                    ).id!)
            }
            _ = try database.addContent(
                ContentItem(url: "https://acme.example/a", title: "Zon", weeks: [week]), now: at)
            let digest = try database.beginDigest(week: week, now: at)
            try database.enqueueDeliveries(digestID: digest.id, week: week, now: at)
            let claimed = try database.claimDeliveries(digestID: digest.id, now: at, sender: 7, limit: 10)
            #expect(claimed.count == 4)
            // Anke unsubscribes while her message is on its way: her delivery is settled at once, so a run's
            // settling finds nothing left.
            try database.setStatus(.unsubscribed, ambassadorID: ids[0], now: at)
            #expect(try database.settleInactive(digestID: digest.id, week: week, now: at) == 0)
            let anke = try #require(claimed.first { $0.ambassador.id == ids[0] })
            #expect(throws: NoLongerDue.self) {
                try database.markHandedOver(deliveryID: anke.id, messageID: "<a@acme>", now: at, sender: 7)
            }
            let bob = try #require(claimed.first { $0.ambassador.id == ids[1] })
            #expect(throws: StoreError.self, "claimed by run 7, not 8") {
                try database.markHandedOver(deliveryID: bob.id, messageID: "<b@acme>", now: at, sender: 8)
            }
            try database.markHandedOver(deliveryID: bob.id, messageID: "<b@acme>", now: at, sender: 7)
            // Carla unsubscribes (settled at once, as Anke) and Dirk is removed while their messages are on their
            // way: the hand-over refuses both ends, and settles Dirk's delivery, which nothing settled before.
            try database.setStatus(.unsubscribed, ambassadorID: ids[2], now: at)
            #expect(try database.removeAmbassador(email: "dirk@x.nl", now: at))
            for index in [2, 3] {
                let delivery = try #require(claimed.first { $0.ambassador.id == ids[index] })
                #expect(throws: NoLongerDue.self) {
                    try database.markHandedOver(deliveryID: delivery.id, messageID: "<c@acme>", now: at, sender: 7)
                }
            }
            let deliveries = try database.deliveries(digestID: digest.id)
            let ledger = Dictionary(uniqueKeysWithValues: deliveries.map { ($0.email ?? "", $0) })
            #expect(ledger["anke@x.nl"]?.status == .skipped && ledger["anke@x.nl"]?.attempts == 0)
            #expect(ledger["bob@x.nl"]?.status == .sending && ledger["bob@x.nl"]?.attempts == 1)
            #expect(ledger["carla@x.nl"]?.status == .skipped && ledger["carla@x.nl"]?.attempts == 0)
            #expect(ledger["carla@x.nl"]?.lastError?.hasPrefix("the ambassador is unsubscribed") == true)
            let dirk = try #require(deliveries.first { $0.email == nil })
            #expect(dirk.status == .skipped && dirk.attempts == 0)
            #expect(dirk.lastError?.hasPrefix("the ambassador was removed") == true)
            // Anke and Carla come back: their deliveries are due again, and free for the next run to claim, whether
            // a run's settling or the hand-over skipped them.
            try database.setStatus(.active, ambassadorID: ids[0], now: at)
            try database.setStatus(.active, ambassadorID: ids[2], now: at)
            #expect(try database.requeueSkipped(digestID: digest.id, week: week, now: at) == 2)
            // Run 7, still sending Anke's old message, is refused without being stopped: the delivery is due, but
            // no longer its own.
            #expect(throws: NoLongerDue.self) {
                try database.markHandedOver(deliveryID: anke.id, messageID: "<a@acme>", now: at, sender: 7)
            }
            let next = try database.claimDeliveries(digestID: digest.id, now: at, sender: 9, limit: 10)
            #expect(next.map(\.ambassador.id) == [ids[0], ids[2]])
            // Run 9 hands Anke's end over; run 7, which lost her, is refused (the end is withheld), not counted.
            try database.markHandedOver(deliveryID: anke.id, messageID: "<a2@acme>", now: at, sender: 9)
            #expect(throws: NoLongerDue.self) {
                try database.markHandedOver(deliveryID: anke.id, messageID: "<a@acme>", now: at, sender: 7)
            }
            let anke2 = try #require(try database.deliveries(digestID: digest.id).first { $0.email == "anke@x.nl" })
            #expect(anke2.status == .sending && anke2.attempts == 1)
        }
    }

    @Test("a database of a newer schema is refused on both backends before anything is written")
    func newerSchema() throws {
        let cluster = try PostgresCluster.shared()
        let url = try cluster.makeDatabase()
        let name = String(url.split(separator: "/").last!)
        let postgres = try folder(url: url)
        #expect(try advocate(["init"], in: postgres.url, environment: environment).status == 0)
        try cluster.sql(
            "INSERT INTO advocate_migrations (name, appliedAt) VALUES ('v99-from-the-future', 'now')", database: name)
        let refused = try advocate(["ambassadors", "import", "people.csv"], in: postgres.url, environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("newer Advocate") && refused.stderr.contains("v99-from-the-future"))
        #expect(try cluster.query("SELECT COUNT(*) FROM ambassador", database: name) == "0")

        let sqlite = try folder(url: nil)
        #expect(try advocate(["init"], in: sqlite.url).status == 0)
        let file = sqlite.path("data/advocate.sqlite")
        try runSQLite(file, "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        let refusedSQLite = try advocate(["ambassadors", "import", "people.csv"], in: sqlite.url)
        #expect(refusedSQLite.status == 1)
        #expect(refusedSQLite.stderr.contains("newer Advocate"), "\(refusedSQLite.stderr)")
        #expect(try runSQLite(file, "SELECT COUNT(*) FROM ambassador") == "0")
    }

    /// A SQLite database with rows in every kind of table the weekly loop fills.
    func seed(_ database: AppDatabase) throws {
        var ids: [Int64] = []
        for name in ["anke", "bob", "carla", "dirk"] {
            ids.append(
                try database.addAmbassador(
                    Ambassador(email: "\(name)@x.nl", name: name, language: .nl, networks: [.x], joinedAt: at), now: at
                ).id!)
        }
        let item = try database.addContent(
            ContentItem(
                url: "https://acme.example/a", title: "Zon, wind", summary: "Één zin 'met' quotes", theme: "energie",
                weeks: [week]), now: at)
        let digest = try database.beginDigest(week: week, now: at)
        try database.enqueueDeliveries(digestID: digest.id, week: week, now: at)
        for delivery in try database.claimDeliveries(digestID: digest.id, now: at, sender: 7, limit: 10) {
            try database.markHandedOver(deliveryID: delivery.id, messageID: "<m\(delivery.id)@acme>", now: at)
            try database.recordOutcome(deliveryID: delivery.id, status: .sent, error: nil, now: at)
        }
        var clicks: [ClickRecord] = []
        for (index, id) in ids.enumerated() {
            for kind in [LinkToken.Kind.share, .visit] {
                clicks.append(
                    ClickRecord(
                        at: at.addingTimeInterval(Double(index)), kind: kind, week: week, itemID: item.id,
                        network: .x, ambassadorID: id,
                        verdict: ClickVerdict(index == 3 ? .scanner : .human, "test \(index)")))
            }
        }
        try database.insertClicks(clicks)
        _ = try database.addEditor(name: "Eva", passwordHash: "$2b$10$abcdefghijklmnopqrstuv", now: at)
        _ = try database.queueInvitations(
            [InvitationRequest(email: "nieuw@x.nl", name: "Nieuw", language: .en)], force: false, cooldownDays: 30,
            now: at)
        _ = try database.allowMembershipMail(to: "nieuw@x.nl", now: at, perAddress: 3, perHour: 100)
        _ = try database.removeAmbassador(email: "dirk@x.nl", now: at)
    }

    @Test("store copy: SQLite → PostgreSQL → SQLite keeps every row, reports agree, ids continue, non-empty refused")
    func copyRoundTrip() throws {
        let cluster = try PostgresCluster.shared()
        let url = try cluster.makeDatabase()
        let source = try folder(url: nil)
        let original = try source.openDatabase()
        try seed(original)

        let copied = try advocate(["store", "copy", "--to", url], in: source.url, environment: environment)
        #expect(copied.status == 0, "\(copied.stdout)\(copied.stderr)")
        #expect(copied.stdout.contains("ambassador: 3") && copied.stdout.contains("click: 8"), "\(copied.stdout)")
        #expect(copied.stdout.contains("the counts match"))
        // Every table of the schema is copied: a new table left off the copy's list would fail here.
        let copiedTables = copied.stdout.split(separator: "\n").filter { !$0.hasPrefix("Copied") }
            .compactMap { $0.split(separator: ":").first.map(String.init) }
        let schema = try runSQLite(
            source.path("data/advocate.sqlite"),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                + "AND name <> 'grdb_migrations'")
        // The click inbox (SQLite only) is moved into `click` before a copy and has no rows to copy.
        #expect(
            Set(schema.split(separator: "\n").map(String.init)).subtracting(["clickInbox", "clickParcel"])
                == Set(copiedTables))
        let postgres = try cluster.open(url)
        #expect(try postgres.dump() == (try original.dump()), "PostgreSQL holds exactly the SQLite rows")

        let target = try folder(url: url)
        let report = ["report", "--week", "2026-W48", "--by", "ambassador", "--format", "json"]
        let onPostgres = try advocate(report, in: target.url, environment: environment)
        let onSQLite = try advocate(report, in: source.url)
        #expect(onPostgres.status == 0 && onPostgres.stdout == onSQLite.stdout, "\(onPostgres.stderr)")

        let back = target.path("back.sqlite")
        let returned = try advocate(["store", "copy", "--to", back], in: target.url, environment: environment)
        #expect(returned.status == 0, "\(returned.stderr)")
        #expect(try AppDatabase.open(at: URL(fileURLWithPath: back)).dump() == (try original.dump()))

        // Identifiers continue after the copied ones, a removed person's (4) included: never reused.
        let next = try postgres.addAmbassador(
            Ambassador(email: "eva@x.nl", name: "Eva", language: .en, networks: [.x], joinedAt: at), now: at)
        #expect(next.id == 5)
        let backAgain = try AppDatabase.open(at: URL(fileURLWithPath: back)).addAmbassador(
            Ambassador(email: "eva@x.nl", name: "Eva", language: .en, networks: [.x], joinedAt: at), now: at)
        #expect(backAgain.id == 5)

        // In batches of 2 rows (the paging and the statement chunks), the same rows arrive.
        let paged = try cluster.open(try cluster.makeDatabase())
        #expect(try original.copy(to: paged, batch: 2).first { $0.table == "click" }?.rows == 8)
        #expect(try paged.dump() == (try original.dump()))

        // A target that holds rows is refused and left as it was.
        let before = try postgres.dump()
        let again = try advocate(["store", "copy", "--to", url], in: source.url, environment: environment)
        #expect(again.status == 1 && again.stderr.contains("not empty"), "\(again.stderr)")
        #expect(try postgres.dump() == before)
    }
}

extension PostgresStoreTests {
    @Test("names and addresses compare without case on both backends, as SQLite's NOCASE does")
    func caseInsensitive() throws {
        try onBothStores { store in
            _ = try store.addEditor(name: "Eva", passwordHash: "$2b$10$abcdefghijklmnopqrstuv", now: at)
            #expect(try store.editorCredentials(name: "eva")?.editor.name == "Eva")
            #expect(throws: StoreError.self) {
                try store.addEditor(name: "EVA", passwordHash: "$2b$10$abcdefghijklmnopqrstuv", now: at)
            }
            _ = try store.addAmbassador(
                Ambassador(email: "Anke@X.nl", name: "Anke", language: .nl, networks: [.x], joinedAt: at), now: at)
            #expect(try store.ambassador(email: "anke@x.nl")?.name == "Anke")
            #expect(try store.removeAmbassador(email: "ANKE@x.nl", now: at))
            #expect(try store.ambassador(email: "Anke@X.nl") == nil)
        }
    }
}

extension PostgresStoreTests {
    @Test("database URLs: loopback without TLS, other hosts with, a socket folder; bad ones named with their field")
    func locations() throws {
        let local = try PostgresLocation(parsing: "postgres://a@127.0.0.1:6543/db", password: nil, field: "f")
        #expect(local.tls == .disable && local.port == 6543 && local.user == "a" && local.database == "db")
        #expect(try PostgresLocation(parsing: "postgres://a@db.internal/db", password: nil, field: "f").tls == .require)
        #expect(
            try PostgresLocation(parsing: "postgres://a@db.internal/db?sslmode=disable", password: nil, field: "f").tls
                == .disable)
        for (url, message) in [
            ("postgres://a@h/db?sslmode=prefer", "sslmode must be disable or require"),
            ("postgres://a@/db?host=relative", "absolute folder"), ("postgres://h/db", "names no user"),
            ("postgres://a@h/", "names no database"), ("postgres://a@h/db?x=1", "unknown URL parameter 'x'"),
        ] {
            let error = #expect(throws: StoreError.self) {
                _ = try PostgresLocation(parsing: url, password: nil, field: "databaseURL")
            }
            let text = error?.description ?? ""
            #expect(text.hasPrefix("databaseURL: ") && text.contains(message), "\(url): \(text)")
        }
        // Through the cluster's Unix socket (local logins need no password there).
        let cluster = try PostgresCluster.shared()
        let name = String(try cluster.makeDatabase().split(separator: "/").last!)
        let socket = try AppDatabase.open(
            .postgres(
                PostgresLocation(
                    parsing: "postgres://advocate@:\(cluster.port)/\(name)?host=\(cluster.folder)", password: nil,
                    field: "test")))
        #expect(try socket.appliedMigrations().count == 19)
    }

    @Test("a click batch on both backends: one flag per click in order, a request id stored once, over the sizes")
    func clickBatches() throws {
        try onBothStores { store in
            let person = try store.addAmbassador(
                Ambassador(email: "anke@x.nl", name: "Anke", language: .nl, networks: [.x], joinedAt: at), now: at)
            let item = try store.addContent(
                ContentItem(url: "https://acme.example/a", title: "A", weeks: [week]), now: at)
            func click(_ id: String?, _ index: Int) -> ClickRecord {
                var click = ClickRecord(
                    at: at.addingTimeInterval(Double(index)), kind: .visit, week: week, itemID: item.id, network: .x,
                    ambassadorID: person.id, verdict: ClickVerdict(.human, "test"))
                click.requestID = id
                return click
            }
            // 300 with ids (split into 256 + 32 + 8 + 4 rows on PostgreSQL), one id again, two without.
            var batch = (0..<300).map { click("r\($0)", $0) }
            batch += [click("r5", 300), click(nil, 301), click(nil, 302)]
            let stored = try store.insertClicks(batch)
            #expect(stored == Array(repeating: true, count: 300) + [false, true, true])
            #expect(try store.insertClicks([click("r7", 303), click("new", 304)]) == [false, true])
            let ids = try store.clickRequestIDs()
            #expect(ids.count == 303 && Set(ids.compactMap { $0 }).count == 301)
        }
    }
}

extension PostgresStoreTests {
    @Test("a bulk load of clicks stores each as given, in order, and leaves SQLite's click indexes as they were")
    func bulkLoad() throws {
        let indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'click' ORDER BY name"
        var checked = false
        try onBothStores { store, file in
            let person = try store.addAmbassador(
                Ambassador(email: "anke@x.nl", name: "Anke", language: .nl, networks: [.x], joinedAt: at), now: at)
            let item = try store.addContent(
                ContentItem(url: "https://acme.example/a", title: "A", weeks: [week]), now: at)
            let before = try file.map { try runSQLite($0, indexes) }
            let verdicts = [ClickVerdict(.human, "browser"), ClickVerdict(.scanner, "HEAD request")]
            let clicks = (0..<240).map { index in
                var click = ClickRecord(
                    at: at.addingTimeInterval(Double(index)), kind: index % 3 == 0 ? .share : .visit, week: week,
                    itemID: item.id, network: index % 2 == 0 ? .x : .linkedin, ambassadorID: person.id,
                    verdict: verdicts[index % 5 == 0 ? 1 : 0])
                click.verdict.reason += " \(index)"
                return click
            }
            try store.loadClicks { add in for click in clicks { try add(click) } }
            #expect(try store.clickReasons() == clicks.map(\.verdict.reason))
            let total = try store.report(ReportFilter(), by: .network).total
            #expect(total.sharesRaw == clicks.filter { $0.kind == .share }.count)
            #expect(total.visitsRaw == clicks.filter { $0.kind == .visit }.count)
            #expect(
                total.visits == clicks.filter { $0.kind == .visit && $0.verdict.classification == .human }.count)
            if let file, let before {
                let after = try runSQLite(file, indexes)
                #expect(after == before && after.contains("click_share") && after.contains("click_report"))
                checked = true
            }
        }
        #expect(checked, "the SQLite store's indexes were compared")
    }
}

/// Runs one statement with the sqlite3 shell and returns what it printed.
@discardableResult
func runSQLite(_ file: String, _ statement: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [file, statement]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestSetupError(description: "sqlite3 \(statement) failed") }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
