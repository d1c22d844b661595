import AdvocateCore
import Foundation
import Testing

@testable import Advocate

@Suite("The click server's memory of each mail's recent hits and of the week's mails")
struct LinkDirectoryTests {
    let week: ISOWeek
    let start = Date(timeIntervalSince1970: 1_796_202_000)

    init() throws { week = try ISOWeek(parsing: "2026-W49") }

    /// Notes a hit on person `ambassador`'s mail and returns the mail's earlier hits of the last minute.
    func note(_ directory: LinkDirectory, _ ambassador: Int64, _ hit: MailHit) -> [MailHit] {
        directory.noteMailHit(ambassadorID: ambassador, week: week, hit: hit, window: 60)
    }

    @Test("a post link's target is made once per address, network, medium and week, and follows an edited address")
    func taggedURLs() throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let directory = LinkDirectory(database: try folder.openDatabase())
        let parts = [
            ("https://example.org/a?ref=1&utm_source=old#top", "linkedin", "advocacy", "2026-W49"),
            ("https://example.org/a?ref=1&utm_source=old#top", "x", "advocacy", "2026-W49"),
            ("https://example.org/a?ref=1&utm_source=old#top", "x", "staff", "2026-W49"),
            ("https://example.org/a?ref=1&utm_source=old#top", "x", "staff", "2026-W50"),
            ("https://example.org/b", "x", "staff", "2026-W50"),
        ]
        for _ in 0..<2 {
            for (url, source, medium, campaign) in parts {
                #expect(
                    directory.taggedURL(url, source: source, medium: medium, campaign: campaign, now: start)
                        == UTM.tag(url, source: source, medium: medium, campaign: campaign))
            }
        }
        #expect(
            directory.taggedURL("https://example.org/b", source: "x", medium: "staff", campaign: "2026-W50", now: start)
                == "https://example.org/b?utm_source=x&utm_medium=staff&utm_campaign=2026-W50")
    }

    @Test("past its limit it forgets the mails not hit meanwhile, not a scanner's walk in progress")
    func limitKeepsAWalk() throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let directory = LinkDirectory(database: try folder.openDatabase(), recentMails: 10)
        // A scanner starts walking mail 100 while nine other mails come, then goes on; one more mail comes (eleven
        // mails in all, past the limit of ten) before its third hit.
        let walk = [0, 1, 3].map { MailHit(at: start + Double($0), link: "link-\($0)", client: 7) }
        #expect(note(directory, 100, walk[0]).isEmpty)
        for person in Int64(1)...9 {
            _ = note(directory, person, MailHit(at: start + 0.5, link: "\(person)", client: 1))
        }
        #expect(note(directory, 100, walk[1]) == [walk[0]])
        _ = note(directory, 10, MailHit(at: start + 2, link: "tenth", client: 1))
        #expect(note(directory, 100, walk[2]) == [walk[0], walk[1]], "the walk's hits are all still known")
        // Mails 1 to 4 were not hit while the five mails after them came: forgotten (their hit was within the
        // minute, so it is the bound, not the window, that dropped them). Mail 9's hit is still known.
        #expect(note(directory, 1, MailHit(at: start + 4, link: "again", client: 1)).isEmpty)
        #expect(note(directory, 9, MailHit(at: start + 4, link: "again", client: 1)).count == 1)
    }

    @Test("however many mails come, it keeps at most the limit: two generations of half of it")
    func bounded() throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let directory = LinkDirectory(database: try folder.openDatabase(), recentMails: 10)
        for person in Int64(1)...1_000 { _ = note(directory, person, MailHit(at: start, link: "\(person)", client: 1)) }
        #expect(directory.recentMailCount == 10)
        // The last ten are known, the one before them is not.
        #expect(note(directory, 991, MailHit(at: start + 1, link: "again", client: 1)).count == 1)
        #expect(note(directory, 990, MailHit(at: start + 1, link: "again", client: 1)).isEmpty)
    }

    @Test("readers of a mail's post do not push the mail's own hits, the honeypot's among them, out of its memory")
    func visitsKeptApart() throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let directory = LinkDirectory(database: try folder.openDatabase())
        let trap = MailHit(at: start, link: "trap", client: 7, trap: true)
        _ = note(directory, 100, trap)
        for reader in 0..<(LinkDirectory.hitsPerMail + 8) {
            _ = note(directory, 100, MailHit(at: start + 1, link: "post", client: UInt64(reader), visit: true))
        }
        let earlier = note(directory, 100, MailHit(at: start + 2, link: "share", client: 7))
        #expect(earlier.first == trap)
        #expect(earlier.count { $0.visit } == LinkDirectory.hitsPerMail, "the visits are bounded on their own")
        // The mail's own links are bounded too: the oldest goes first.
        for hit in 0..<LinkDirectory.hitsPerMail {
            _ = note(directory, 100, MailHit(at: start + 3, link: "s\(hit)", client: 8))
        }
        let later = note(directory, 100, MailHit(at: start + 4, link: "last", client: 8))
        #expect(later.count { !$0.visit } == LinkDirectory.hitsPerMail && !later.contains(trap))
    }

    /// Ann, Bob (English) and Cor, mailed this week: Ann's and Bob's mails delivered at `start`, Cor's still on its
    /// way; Dee joined after the week's mails and has none.
    func week(_ database: AppDatabase) throws -> (ann: Int64, bob: Int64, cor: Int64, dee: Int64, cors: Int64) {
        func add(_ name: String, _ language: Language) throws -> Int64 {
            try database.addAmbassador(
                Ambassador(
                    email: "\(name)@example.org", name: name, language: language, networks: [.x], joinedAt: start),
                now: start
            ).id!
        }
        let (ann, bob, cor) = (try add("ann", .nl), try add("bob", .en), try add("cor", .nl))
        let digest = try database.beginDigest(week: week, now: start)
        #expect(try database.enqueueDeliveries(digestID: digest.id, week: week, now: start) == 3)
        var cors: Int64?
        for due in try database.claimDeliveries(digestID: digest.id, now: start, sender: 1, limit: 10) {
            guard due.ambassador.id != cor else {
                cors = due.id
                continue
            }
            try database.recordOutcome(deliveryID: due.id, status: .sent, error: nil, now: start)
        }
        return (ann, bob, cor, try add("dee", .en), try #require(cors))
    }

    @Test(
        "a mail's first miss reads the week's mails at once, once a minute: delivered ones kept a minute, those on their way a second"
    )
    func weekReadAtOnce() throws {
        let folder = try TempDirectory()
        let database = try folder.openDatabase()
        let directory = LinkDirectory(database: database, weekMisses: 1)
        let people = try week(database)
        func kept(_ person: Int64, _ at: Double) -> Date?? {
            directory.cachedDeliveredAt(ambassadorID: person, week: week, now: start + at)
        }
        func read(_ person: Int64, _ at: Double) throws -> Date? {
            try directory.readMail(ambassadorID: person, week: week, delivery: true, language: true, now: start + at)
                .deliveredAt
        }
        #expect(try read(people.ann, 5) == start)
        // The rest of the week came with it: Bob's delivery and language, Cor's mail on its way (for a second).
        #expect(kept(people.bob, 5) == .some(start))
        #expect(directory.cachedLanguage(ambassadorID: people.bob, now: start + 5) == .some(.en))
        #expect(kept(people.cor, 5) == .some(nil) && kept(people.cor, 6.5) == nil)
        #expect(kept(people.dee, 5) == nil, "no mail that week: not in the read")
        // Cor's mail is delivered; within the minute a miss reads only its own mail, also one whose clock was read
        // before the week's read began (another thread's).
        try database.recordOutcome(deliveryID: people.cors, status: .sent, error: nil, now: start + 6)
        #expect(try read(people.dee, 4) == nil)
        #expect(kept(people.cor, 5.5) == .some(nil), "the week was not read again")
        #expect(try read(people.dee, 7) == nil)
        #expect(kept(people.dee, 7) == .some(nil) && kept(people.cor, 7) == nil, "the week was not read again")
        #expect(try read(people.cor, 8) == start + 6)
        // A minute after the first read, the next miss reads the week again.
        try database.recordOutcome(deliveryID: people.cors, status: .sent, error: nil, now: start + 9)
        #expect(kept(people.bob, 65) == nil)
        #expect(try read(people.bob, 65) == start)
        #expect(kept(people.cor, 65) == .some(start + 9), "read with the week")
    }

    @Test("a failed read of a week's mails together is logged once, naming the week, and not tried again that minute")
    func weekReadFailureLogged() throws {
        let folder = try TempDirectory()
        let database = try folder.openDatabase()
        let lines = LogLines()
        var log = lines.logger
        log.logLevel = .warning
        let directory = LinkDirectory(database: database, weekMisses: 1, logger: log)
        let people = try week(database)
        // The store loses the deliveries' table: the week's read fails, and so does the mail's own read after it.
        try database.write { db in try db.execute(sql: "ALTER TABLE delivery RENAME TO deliveryGone") }
        for (person, at) in [(people.ann, 5.0), (people.bob, 6), (people.ann, 30)] {
            #expect(throws: (any Error).self) {
                try directory.readMail(
                    ambassadorID: person, week: self.week, delivery: true, language: true, now: self.start + at)
            }
        }
        let warnings = lines.lines
        #expect(warnings.count == 1, "once a minute: \(warnings)")
        #expect(warnings.first?.contains("reading the deliveries of 2026-W49 together failed") == true, "\(warnings)")
        #expect(warnings.first?.contains("delivery") == true, "the store's own error is in it: \(warnings)")
    }

    @Test("a week is read at once only when its mails are missed many times within a second")
    func weekReadOnMisses() throws {
        let folder = try TempDirectory()
        let database = try folder.openDatabase()
        let directory = LinkDirectory(database: database, weekMisses: 3)
        let people = try week(database)
        func read(_ person: Int64, _ at: Double) throws {
            _ = try directory.readMail(
                ambassadorID: person, week: week, delivery: true, language: false, now: start + at)
        }
        // Misses now and then, as clicks on an old week's mails: each reads its own mail.
        try read(people.ann, 0)
        try read(people.dee, 1.5)
        try read(people.ann, 61)
        #expect(directory.cachedDeliveredAt(ambassadorID: people.bob, week: week, now: start + 61) == nil)
        // Three misses within a second (all kept values have expired by then): the third reads the week, Bob's mail
        // with it.
        try read(people.dee, 200)
        try read(people.cor, 200.4)
        #expect(directory.cachedDeliveredAt(ambassadorID: people.bob, week: week, now: start + 200.5) == nil)
        try read(people.ann, 200.9)
        #expect(directory.cachedDeliveredAt(ambassadorID: people.bob, week: week, now: start + 200.9) == .some(start))
        #expect(directory.cachedLanguage(ambassadorID: people.bob, now: start + 200.9) == .some(.en))
    }

    @Test(
        "a week is read in pages, in the order of its people, the pages after the first on the store's threads; a week of more mails than the limit is read a mail at a time; removed people are not in the read"
    )
    func weekPagesAndLimit() async throws {
        let folder = try TempDirectory()
        let database = try folder.openDatabase()
        let people = try week(database)
        #expect(try database.weekMailCount(week: week) == 3)
        #expect(try database.weekMails(week: week, after: 0, count: 2).map(\.ambassadorID) == [people.ann, people.bob])
        #expect(try database.weekMails(week: week, after: people.bob, count: 2).map(\.ambassadorID) == [people.cor])
        // Pages of one: the miss reads the first, the store's threads the others after it.
        let paged = LinkDirectory(database: database, weekMisses: 1, weekPage: 1)
        func kept(_ person: Int64) -> Date?? { paged.cachedDeliveredAt(ambassadorID: person, week: week, now: start) }
        _ = try paged.readMail(ambassadorID: people.dee, week: week, delivery: true, language: false, now: start)
        await waitUntilAsync(timeout: 5) { kept(people.cor) != nil }
        #expect(kept(people.ann) == .some(start) && kept(people.bob) == .some(start))
        #expect(kept(people.cor) == .some(nil), "on its way")
        #expect(paged.cachedLanguage(ambassadorID: people.bob, now: start) == .some(.en))
        // A week of more mails than the limit: only the mail missed is read.
        let limited = LinkDirectory(database: database, weekLimit: 2, weekMisses: 1)
        #expect(
            try limited.readMail(ambassadorID: people.ann, week: week, delivery: true, language: false, now: start)
                .deliveredAt == start)
        #expect(limited.cachedDeliveredAt(ambassadorID: people.bob, week: week, now: start) == nil)
        #expect(try database.removeAmbassador(email: "cor@example.org", now: start))
        #expect(try database.weekMailCount(week: week) == 2)
        let mails = try database.weekMails(week: week, after: 0, count: 10)
        #expect(mails.map(\.ambassadorID) == [people.ann, people.bob])
        #expect(mails.map(\.language) == [.nl, .en])
        #expect(mails.allSatisfy { $0.deliveredAt == start && !$0.awaited })
    }

    @Test("many values kept at once replace their own, go after the expired ones, and never push out values in use")
    func keepMany() {
        let cache = LinkDirectory.Expiring<Int, String>(ttl: 60, limit: 4)
        cache.keep([(1, "1", nil), (2, "2", nil), (3, "3", nil)], now: start)
        cache.keep([(4, "4", 1)], now: start + 10)
        // Two of the four again: they replace their own, so the cache does not grow.
        cache.keep([(2, "new 2", nil), (3, "new 3", nil)], now: start + 10)
        #expect((1...4).map { cache.fresh($0, now: start + 10) } == ["1", "new 2", "new 3", "4"])
        // Two more would make six of four, and none has expired: none is kept, those in use stay.
        #expect(!cache.keep([(5, "5", nil), (6, "6", nil)], now: start + 10))
        #expect(cache.fresh(5, now: start + 10) == nil && cache.fresh(1, now: start + 10) == "1")
        // A minute after the first read, it and the one kept for a second have expired: the two fit in their place.
        #expect(cache.keep([(5, "5", nil), (6, "6", nil)], now: start + 60))
        #expect((1...6).map { cache.fresh($0, now: start + 60) } == [nil, "new 2", "new 3", nil, "5", "6"])
    }
}
