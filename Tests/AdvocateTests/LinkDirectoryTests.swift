import AdvocateCore
import Foundation
import Testing

@testable import Advocate

@Suite("The click server's memory of each mail's recent hits")
struct LinkDirectoryTests {
    let week: ISOWeek
    let start = Date(timeIntervalSince1970: 1_796_202_000)

    init() throws { week = try ISOWeek(parsing: "2026-W49") }

    /// Notes a hit on person `ambassador`'s mail and returns the mail's earlier hits of the last minute.
    func note(_ directory: LinkDirectory, _ ambassador: Int64, _ hit: MailHit) -> [MailHit] {
        directory.noteMailHit(ambassadorID: ambassador, week: week, hit: hit, window: 60)
    }

    @Test("at its limit it forgets the mails without a hit in the last minute, not a scanner's walk in progress")
    func limitKeepsRecentMails() throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let directory = LinkDirectory(database: try folder.openDatabase(), recentMails: 10)
        // Nine mails hit an hour ago, then a scanner's first hit on a new mail: ten kept, the limit.
        for person in Int64(1)...9 {
            _ = note(directory, person, MailHit(at: start - 3_600, link: "old-\(person)", client: 1))
        }
        let walk = MailHit(at: start, link: "first", client: 7)
        #expect(note(directory, 100, walk).isEmpty)
        // The next new mail comes as the eleventh; the walk goes on a second later and its first hit is still known.
        #expect(note(directory, 101, MailHit(at: start + 1, link: "other", client: 8)).isEmpty)
        #expect(note(directory, 100, MailHit(at: start + 2, link: "second", client: 7)) == [walk])
        // The other mail hit within the minute was kept as well.
        #expect(note(directory, 101, MailHit(at: start + 3, link: "again", client: 8)).count == 1)
    }

    @Test("past half the limit within one minute, it keeps the half hit most recently, a walk in progress among them")
    func floodKeepsTheLatest() throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let directory = LinkDirectory(database: try folder.openDatabase(), recentMails: 10)
        let walk = MailHit(at: start, link: "first", client: 7)
        _ = note(directory, 100, walk)
        for person in Int64(1)...9 {
            _ = note(directory, person, MailHit(at: start + 1 + Double(person) / 10, link: "\(person)", client: 1))
        }
        let second = MailHit(at: start + 2, link: "second", client: 7)
        #expect(note(directory, 100, second) == [walk])
        // The eleventh mail: all ten were hit within the minute, more than half the limit, so the five hit longest
        // ago go (mails 1 to 5) and the five hit last stay (the walk's and mails 6 to 9).
        _ = note(directory, 11, MailHit(at: start + 3, link: "eleventh", client: 1))
        #expect(note(directory, 100, MailHit(at: start + 4, link: "third", client: 7)) == [walk, second])
        #expect(note(directory, 9, MailHit(at: start + 5, link: "again", client: 1)).count == 1)
        #expect(note(directory, 1, MailHit(at: start + 5, link: "again", client: 1)).isEmpty)
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
}
