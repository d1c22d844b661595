import AdvocateCore
import Foundation
import Logging
import Testing

@testable import Advocate

/// The click inbox (SQLite): clicks committed narrow before their redirect, moved into `click` later.
@Suite("The click inbox")
struct ClickInboxTests {
    let week = try! ISOWeek(parsing: "2026-W49")

    /// A SQLite store with two ambassadors and two items.
    func store() throws -> (TempDirectory, AppDatabase, [Int64], [Int64]) {
        let directory = try TempDirectory(sqliteOnly: true)
        let database = try makeContext(in: directory).openDatabase()
        var people: [Int64] = []
        for name in ["anke", "bert"] {
            people.append(
                try database.addAmbassador(
                    Ambassador(email: "\(name)@x.nl", name: name, language: .nl, networks: [.x], joinedAt: fixedNow),
                    now: fixedNow
                ).id!)
        }
        var items: [Int64] = []
        for path in ["a", "b"] {
            items.append(
                try database.addContent(
                    ContentItem(url: "https://acme.example/\(path)", title: path, weeks: [week]), now: fixedNow
                ).id!)
        }
        return (directory, database, people, items)
    }

    /// Two stores alike: one that stores clicks directly, one whose clicks go through the inbox.
    struct Pair {
        var directFolder: TempDirectory
        var inboxFolder: TempDirectory
        var direct: AppDatabase
        var inbox: AppDatabase
        var people: [Int64]
        var items: [Int64]
    }

    /// Two stores with the same people and items (and so the same ids).
    func pair() throws -> Pair {
        let (directFolder, direct, people, items) = try store()
        let (inboxFolder, inbox, inboxPeople, inboxItems) = try store()
        #expect(people == inboxPeople && items == inboxItems)
        return Pair(
            directFolder: directFolder, inboxFolder: inboxFolder, direct: direct, inbox: inbox, people: people,
            items: items)
    }

    /// The server's click writer on `database`, with the limits `set` changes.
    func writer(
        on database: AppDatabase, maxBatch: Int = 2_048, logger: Logger = Logger(label: "advocate.clicks"),
        _ set: (inout ClickRecorder.Limits) -> Void
    ) -> ClickRecorder {
        var limits = ClickRecorder.Limits()
        set(&limits)
        return ClickRecorder(database: database, maxBatch: maxBatch, limits: limits, logger: logger)
    }

    /// A person's share click from a browser: what the writer tests record.
    func browserShare(people: [Int64], items: [Int64]) -> ClickRecord {
        ClickRecord(
            at: fixedNow, kind: .share, week: week, itemID: items[0], network: .x, ambassadorID: people[0],
            verdict: ClickVerdict(.human, "browser"))
    }

    /// Clicks whose storing reclassifies earlier ones in every way the store knows, with a request retried on a
    /// second server and a click of a person and an item that do not exist.
    func history(people: [Int64], items: [Int64]) -> [ClickRecord] {
        func click(
            _ kind: LinkToken.Kind, _ verdict: ClickVerdict, at offset: TimeInterval, person: Int = 0, item: Int = 0,
            network: Network = .x, edit: (inout ClickRecord) -> Void = { _ in }
        ) -> ClickRecord {
            var record = ClickRecord(
                at: fixedNow.addingTimeInterval(offset), kind: kind, week: week,
                itemID: kind == .trap ? nil : items[item], network: kind == .trap ? nil : network,
                ambassadorID: people[person], verdict: verdict)
            edit(&record)
            return record
        }
        return [
            // A time-of-click check, then the person's own click on the same link.
            click(.share, ClickVerdict(.human, "browser"), at: 0.0004),
            click(.share, ClickVerdict(.human, "browser"), at: 5) {
                $0.checkBefore = fixedNow.addingTimeInterval(0.0004)
            },
            // A share, then the honeypot of the same mail hit together with it.
            click(.share, ClickVerdict(.human, "browser"), at: 20.0017, person: 1),
            click(.trap, ClickVerdict(.scanner, "honeypot link"), at: 20.5, person: 1) {
                $0.taints = [fixedNow.addingTimeInterval(20.0017)]
            },
            // A share held for a paced scan, then confirmed by a reader.
            click(.share, ClickVerdict(.scanner, "paced: 3 links of one mail in 9 s"), at: 30, item: 1),
            click(.visit, ClickVerdict(.human, "browser"), at: 40, item: 1) {
                $0.confirms = "reader"
                $0.newReader = true
                $0.newItemReader = true
            },
            // A request the proxy retried on a second server: stored once.
            click(.share, ClickVerdict(.human, "browser"), at: 50, person: 1, item: 1) { $0.requestID = "req-0001" },
            click(.share, ClickVerdict(.human, "browser"), at: 50.001, person: 1, item: 1) {
                $0.requestID = "req-0001"
            },
            // A person and an item that no longer exist: stored without them.
            ClickRecord(
                at: fixedNow.addingTimeInterval(60), kind: .share, week: week, itemID: 999, network: .x,
                ambassadorID: 998, verdict: ClickVerdict(.human, "browser")),
        ]
    }

    /// Every stored click's columns but its id, in storing order.
    func rows(_ database: AppDatabase) throws -> [[SQLValue]] {
        try database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT \(AppDatabase.clickColumnNames) FROM click ORDER BY id").map(\.values)
        }
    }

    @Test("clicks moved from the inbox are stored exactly as stored on arrival: same rows, same reclassifications")
    func sameAsDirect() throws {
        let stores = try pair()
        defer { withExtendedLifetime(stores) {} }
        let (direct, inbox) = (stores.direct, stores.inbox)
        let clicks = history(people: stores.people, items: stores.items)
        for click in clicks { try direct.insertClicks([click]) }
        // The inbox in the server's way: small group commits, then moves in slices smaller than the history. A
        // slice ends with a whole commit: asked for 3, the move takes the first two commits of 2.
        try inbox.inboxClicks(Array(clicks.prefix(2)))
        try inbox.inboxClicks(Array(clicks[2..<4]))
        try inbox.inboxClicks(Array(clicks.dropFirst(4)))
        #expect(try inbox.inboxCount() == clicks.count)
        #expect(try rows(inbox).isEmpty)
        #expect(try inbox.moveInboxClicks(limit: 3) == 4)
        #expect(try inbox.inboxCount() == clicks.count - 4)
        #expect(try rows(inbox).count == 4)
        try inbox.settleClicks()
        #expect(try inbox.inboxCount() == 0)
        let stored = try rows(direct)
        #expect(try rows(inbox) == stored)
        // The history did reclassify (else the comparison proves little): the check, the honeypot, the reader.
        #expect(
            try direct.clickReasons() == [
                "time-of-click check", "browser", "honeypot link of the same mail hit together", "honeypot link",
                "confirmed by a reader", "browser", "browser", "browser",
            ])
        #expect(stored.last?[3] == .null && stored.last?[5] == .null, "the missing item and person are NULL")
    }

    @Test("every read of clicks counts what waits in the inbox: report, results, personal data, copy")
    func readsSettle() throws {
        let stores = try pair()
        defer { withExtendedLifetime(stores) {} }
        let (direct, inbox, people, items) = (stores.direct, stores.inbox, stores.people, stores.items)
        let clicks = history(people: people, items: items)
        try direct.insertClicks(clicks)
        /// The inbox store with the history waiting in its inbox and nothing in `click`.
        func waiting() throws -> AppDatabase {
            try inbox.write { db in try db.execute(sql: "DELETE FROM click") }
            try inbox.inboxClicks(clicks)
            return inbox
        }
        let report = try direct.report(ReportFilter(week: week), by: .network)
        #expect(report.total.shares > 0 && report.total.visits > 0)
        #expect(
            String(describing: try waiting().report(ReportFilter(week: week), by: .network))
                == String(describing: report))
        let results = try direct.resultsSnapshot(digestWeek: week.next, timeZone: .gmt)
        #expect(!results.personal.isEmpty)
        #expect(
            String(
                describing: try waiting().resultsSnapshot(digestWeek: week.next, timeZone: .gmt).personal.sorted {
                    $0.key < $1.key
                }) == String(describing: results.personal.sorted { $0.key < $1.key }))
        let personal = try #require(try direct.personalData(ambassadorID: people[1])?.clicks.map(\.count))
        #expect(personal.reduce(0, +) == 3)
        #expect(try waiting().personalData(ambassadorID: people[1])?.clicks.map(\.count) == personal)
        _ = try waiting()
        let target = try AppDatabase.open(at: stores.inboxFolder.url.appendingPathComponent("copy.sqlite"))
        let copied = try inbox.copy(to: target)
        #expect(copied.first { $0.table == "click" }?.rows == clicks.count - 1)
        #expect(try inbox.inboxCount() == 0)
    }

    @Test("the server's writer: clicks wait in the inbox while it is busy, and a backlog is moved a slice per batch")
    func recorderBacklog() async throws {
        let (directory, database, people, items) = try store()
        defer { withExtendedLifetime(directory) {} }
        let recorder = writer(on: database) {
            $0.idle = 3_600
            $0.backlog = 10
            $0.busySlice = 4
        }
        let click = browserShare(people: people, items: items)
        for _ in 0..<10 { try await recorder.record(click) }
        #expect(try database.inboxCount() == 10, "committed to the inbox, not moved while not idle")
        for _ in 0..<30 { try await recorder.record(click) }
        recorder.shutdown()
        let waiting = try database.inboxCount()
        #expect(waiting > 0 && waiting <= 11, "the backlog stays near its limit: \(waiting)")
        #expect(try rows(database).count == 40 - waiting)
        #expect(try database.clickCounts()["share/human"] == 40)
    }

    @Test(
        "under concurrent load a group commit waits for more clicks (commit delay); alone, after a gap, at shutdown not",
        .timeLimit(.minutes(1)))
    func recorderCommitDelay() throws {
        let (directory, database, people, items) = try store()
        defer { withExtendedLifetime(directory) {} }
        /// A writer whose commit delay is far longer than any test (the time limit turns a wait for it into a
        /// failure), as is its gap unless given.
        func delayed(gap: TimeInterval = 3_600) -> ClickRecorder {
            writer(on: database) {
                $0.idle = 3_600
                $0.commitDelay = 3_600
                $0.commitGap = gap
                $0.commitGroup = 4
            }
        }
        let recorder = delayed()
        func commits() throws -> Int {
            try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM clickParcel") ?? 0 }
        }
        let click = browserShare(people: people, items: items)
        /// Queues `count` clicks one after the other and waits until all are committed.
        func record(_ count: Int, on recorder: ClickRecorder) {
            let done = DispatchSemaphore(value: 0)
            for _ in 0..<count { recorder.enqueue({ click }) { _ in done.signal() } }
            for _ in 0..<count { done.wait() }
        }
        /// Two clicks in one group commit, whatever the scheduling: the writer is held in the callback of a first
        /// click (committed alone) while the two are queued.
        func recordPair(on recorder: ClickRecorder) {
            let (entered, release) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
            recorder.enqueue({ click }) { _ in
                entered.signal()
                release.wait()
            }
            entered.wait()
            let done = DispatchSemaphore(value: 0)
            for _ in 0..<2 { recorder.enqueue({ click }) { _ in done.signal() } }
            release.signal()
            for _ in 0..<2 { done.wait() }
        }
        // A lone client: no commit waits, whatever came before.
        for _ in 0..<3 { record(1, on: recorder) }
        #expect(try commits() == 3 && database.inboxCount() == 3)
        // A commit of two: load is concurrent now.
        recordPair(on: recorder)
        #expect(try commits() == 5 && database.inboxCount() == 6)
        // Right after it, a click waits for more (without the delay the writer would take it alone at once); the
        // group of four it waits for shares one commit.
        let first = DispatchSemaphore(value: 0)
        recorder.enqueue({ click }) { _ in first.signal() }
        #expect(first.wait(timeout: .now() + 1) == .timedOut, "committed alone")
        record(3, on: recorder)
        first.wait()
        #expect(try commits() == 6 && database.inboxCount() == 10, "one group commit of four")
        // A click queued while a group is awaited is committed when the writer stops, not an hour later.
        let outcome = Shared<Bool?>(nil)
        recorder.enqueue({ click }) { result in outcome.withLock { $0 = (try? result.get()) != nil } }
        recorder.shutdown()
        #expect(outcome.withLock { $0 } == true)
        #expect(try commits() == 7 && database.inboxCount() == 11)

        // With a short gap, a group that stops growing is committed without waiting for the delay.
        let gapped = delayed(gap: 0.001)
        recordPair(on: gapped)
        record(1, on: gapped)
        #expect(try commits() == 10 && database.inboxCount() == 15)
        gapped.shutdown()
    }

    @Test("an idle writer moves the inbox by itself, and one that starts moves what a killed one left")
    func recorderIdle() async throws {
        let (directory, database, people, items) = try store()
        defer { withExtendedLifetime(directory) {} }
        try database.inboxClicks(history(people: people, items: items))
        let recorder = writer(on: database) { $0.idle = 0.05 }
        let click = browserShare(people: people, items: items)
        try await recorder.record(click)
        #expect(try await waitUntilAsync { try database.inboxCount() == 0 })
        // The history less the retried request, plus the click recorded here.
        #expect(try rows(database).count == history(people: people, items: items).count - 1 + 1)
        recorder.shutdown()
    }

    @Test("an idle writer also moves what another process committed to the inbox, one slice per idle time")
    func recorderOthers() async throws {
        let (directory, database, people, items) = try store()
        defer { withExtendedLifetime(directory) {} }
        let recorder = writer(on: database) {
            $0.idle = 0.25
            $0.idleSlice = 4
        }
        let click = browserShare(people: people, items: items)
        // Another server on the same file commits 20 the writer does not know of, 4 at a time; it then takes 4 of
        // its own.
        for _ in 0..<5 { try database.inboxClicks(Array(repeating: click, count: 4)) }
        // Its own 4 at once, so that they come in one group commit however slow the machine is.
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { try await recorder.record(click) } }
            try await group.waitForAll()
        }
        #expect(try await waitUntilAsync(timeout: 20) { try database.inboxCount() == 0 }, "all 24 moved, not 4")
        #expect(try rows(database).count == 24)
        // Beyond its own 4, one slice per idle time (the other server may still be taking a burst): 6 slices of 4,
        // the oldest first, each after an idle time of 0.25 s, so at least 1.5 s from before the commit (at least
        // 1 s even if its own 4 came in two commits with a move between); back to back, 0.25 s.
        #expect(Date().timeIntervalSince(started) >= 1, "moved back to back")
        recorder.shutdown()
    }

    /// With batches of at most 3, group commits may take part of the queue and leave the rest for the next. Each
    /// caller, once resumed, finds its click stored, and with it every click built before (a waiter resumed with
    /// another's batch would find fewer).
    @Test(
        "clicks are stored in the order they were built, however many are recorded at once, in batches however small",
        arguments: [2_048, 3])
    func recorderOrder(maxBatch: Int) async throws {
        let (directory, database, people, items) = try store()
        defer { withExtendedLifetime(directory) {} }
        let recorder = writer(on: database, maxBatch: maxBatch) { $0.idle = 0.05 }
        let ticks = Shared(0)
        let click = browserShare(people: people, items: items)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    let mine = Shared(0)
                    try await recorder.record {
                        var built = click
                        let tick = ticks.withLock {
                            $0 += 1
                            return $0
                        }
                        mine.withLock { $0 = tick }
                        built.at = fixedNow.addingTimeInterval(Double(tick) / 1_000)
                        // Work after the moment is taken, as judging does, longer for every other click: a click
                        // built meanwhile on another thread would be queued first, with a later moment.
                        var spin = 0
                        for index in 0..<(tick % 2 == 1 ? 200_000 : 10) { spin &+= index }
                        built.requestID = spin == 0 ? "never" : nil
                        return built
                    }
                    // Moved or waiting, read in one transaction, so that a move in between counts neither twice
                    // nor not at all.
                    let found = try database.read { db in
                        try (Int.fetchOne(db, sql: "SELECT COUNT(*) FROM click") ?? 0) + AppDatabase.inboxCount(db)
                    }
                    let tick = mine.withLock { $0 }
                    #expect(found >= tick, "click \(tick) answered with \(found) stored")
                }
            }
            try await group.waitForAll()
        }
        recorder.shutdown()
        try database.settleClicks()
        let moments = try database.read { db in try String.fetchAll(db, sql: "SELECT at FROM click ORDER BY id") }
        #expect(moments.count == 200)
        #expect(moments == moments.sorted(), "stored in the order built")
    }

    @Test("a move that fails leaves the clicks in the inbox and is retried ever later, then succeeds")
    func recorderBackOff() async throws {
        let (directory, database, people, items) = try store()
        defer { withExtendedLifetime(directory) {} }
        let log = LogLines()
        let recorder = writer(on: database, logger: log.logger) { $0.idle = 0.01 }
        // Every move fails while the click table refuses inserts.
        try database.write { db in
            try db.execute(
                sql:
                    "CREATE TRIGGER refuse BEFORE INSERT ON click BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        }
        let click = browserShare(people: people, items: items)
        let started = Date()
        try await recorder.record(click)
        func failures() -> Int { log.lines.filter { $0.contains("moving clicks from the inbox failed") }.count }
        #expect(await waitUntilAsync(timeout: 20) { failures() >= 6 })
        // Retried after 0.02, 0.04, 0.08, 0.16 and 0.32 s: without the back-off, six tries take 0.06 s.
        #expect(
            Date().timeIntervalSince(started) >= 0.5, "six failed moves within \(Date().timeIntervalSince(started)) s")
        #expect(try database.inboxCount() == 1, "the click stays in the inbox, committed")
        try database.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        #expect(try await waitUntilAsync(timeout: 20) { try database.inboxCount() == 0 })
        #expect(try rows(database).count == 1)
        recorder.shutdown()
    }

    @Test("erasing a person stores their waiting clicks first: a honeypot hit still reclassifies their shares")
    func erasure() throws {
        let stores = try pair()
        defer { withExtendedLifetime(stores) {} }
        let (direct, inbox, people, items) = (stores.direct, stores.inbox, stores.people, stores.items)
        // Bert's share, then the honeypot of his mail hit together with it (the history's third and fourth).
        let clicks = Array(history(people: people, items: items)[2...3])
        try direct.insertClicks(clicks)
        try inbox.inboxClicks(clicks)
        for database in [direct, inbox] { #expect(try database.removeAmbassador(email: "bert@x.nl")) }
        #expect(try inbox.inboxCount() == 0)
        #expect(try rows(inbox) == (try rows(direct)))
        #expect(try inbox.clickReasons() == ["honeypot link of the same mail hit together", "honeypot link"])
    }

    /// Commits `clicks` to `clickInbox` as versions before the parcels did, a row each.
    func legacy(_ database: AppDatabase, _ clicks: [ClickRecord]) throws {
        try database.write { db in
            for click in clicks {
                try db.execute(sql: AppDatabase.inboxInsertSQL, arguments: AppDatabase.inboxColumns(of: click))
            }
        }
    }

    @Test("what an older version left in its inbox, a row per click, is moved first and stored as on arrival")
    func olderInbox() throws {
        let stores = try pair()
        defer { withExtendedLifetime(stores) {} }
        let (direct, inbox, people, items) = (stores.direct, stores.inbox, stores.people, stores.items)
        let clicks = history(people: people, items: items)
        try direct.insertClicks(clicks)
        // The first half as an older server left it, the rest as this one commits them.
        try legacy(inbox, Array(clicks.prefix(4)))
        try inbox.inboxClicks(Array(clicks.dropFirst(4)))
        #expect(try inbox.inboxCount() == clicks.count)
        #expect(try inbox.moveInboxClicks(limit: 2) == 2, "row by row: two of the older rows")
        try inbox.settleClicks()
        #expect(try inbox.inboxCount() == 0)
        #expect(try rows(inbox) == (try rows(direct)))
    }

    @Test("a parcel holds its clicks exactly: every field, absent ones, escapes, moments to the last bit")
    func parcelText() {
        var clicks = history(people: [1, 2], items: [1, 2])
        var odd = clicks[0]
        odd.verdict.reason = "tab\there, line\nbreak, CR\r, back\\slash \\N, ünï ☀️"
        odd.requestID = "\\N"
        odd.confirms = ""
        odd.at = Date(timeIntervalSinceReferenceDate: 817_000_000.123_456_7)
        odd.taints = [Date(timeIntervalSinceReferenceDate: -1.5), Date(timeIntervalSinceReferenceDate: 0.1 + 0.2)]
        odd.checkBefore = Date(timeIntervalSinceReferenceDate: 1e-9)
        odd.newReader = true
        clicks.append(odd)
        let text = ClickParcel.encode(clicks)
        #expect(text.split(separator: "\n").count == clicks.count, "a line per click, whatever the texts hold")
        #expect(ClickParcel.decode(text) == clicks)
        #expect(ClickParcel.decode(ClickParcel.encode([])) == [])
        // Text that no encoding gives is refused whole, not read in part.
        for bad in [
            String(text.dropLast()), text + "x\n", text.replacingOccurrences(of: "\tshare\t", with: "\tclick\t"),
            text.replacingOccurrences(of: "\\t", with: "\\q"),
        ] {
            #expect(ClickParcel.decode(bad) == nil)
        }
    }

    @Test("a parcel that does not hold the clicks it counts stops the move with its id, and nothing moves")
    func brokenParcel() throws {
        let (directory, database, people, items) = try store()
        defer { withExtendedLifetime(directory) {} }
        let click = browserShare(people: people, items: items)
        try database.inboxClicks([click, click])
        try database.write { db in try db.execute(sql: "INSERT INTO clickParcel (clicks, lines) VALUES (1, 'x')") }
        let error = #expect(throws: StoreError.self) { try database.settleClicks() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("clickParcel row 2 does not hold the clicks it counts"))
        #expect(try rows(database).isEmpty)
        #expect(try database.inboxCount() == 3)
        #expect(throws: (any Error).self) {
            try database.write { db in try db.execute(sql: "INSERT INTO clickParcel (clicks, lines) VALUES (0, '')") }
        }
    }

    @Test("the older inbox refuses what the click table refuses, so every row it took can be moved")
    func checks() throws {
        let (directory, database, _, _) = try store()
        defer { withExtendedLifetime(directory) {} }
        func insert(_ values: [String]) throws {
            try database.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO clickInbox (at, kind, week, class, reason, newReader, newItemReader)
                        VALUES (\(values.joined(separator: ", ")), 'r', 0, 0)
                        """)
            }
        }
        let good: [String] = ["'2026-12-01 10:00:00.000'", "'share'", "'2026-W49'", "'human'"]
        for (index, value) in [(1, "'bogus'"), (2, "'2026-49'"), (3, "'person'")] {
            let bad = good.indices.map { $0 == index ? value : good[$0] }
            #expect(throws: (any Error).self) { try insert(bad) }
        }
        try insert(good)
        try database.settleClicks()
        #expect(try database.clickCounts() == ["share/human": 1])
    }
}
