import Advocate
import AdvocateCore
import Foundation
import Testing

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

    @Test("a flood of mails hit within one minute, more than half the limit, empties it: memory stays bounded")
    func floodEmptiesIt() throws {
        let folder = try TempDirectory(sqliteOnly: true)
        let directory = LinkDirectory(database: try folder.openDatabase(), recentMails: 10)
        let walk = MailHit(at: start, link: "first", client: 7)
        _ = note(directory, 100, walk)
        for person in Int64(1)...9 { _ = note(directory, person, MailHit(at: start + 1, link: "\(person)", client: 1)) }
        #expect(note(directory, 100, MailHit(at: start + 2, link: "second", client: 7)) == [walk])
        // The eleventh mail: all ten were hit within the minute, more than half the limit, so all are forgotten.
        _ = note(directory, 11, MailHit(at: start + 3, link: "eleventh", client: 1))
        #expect(note(directory, 100, MailHit(at: start + 4, link: "third", client: 7)).isEmpty)
    }
}
