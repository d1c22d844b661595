import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("Imports into a real SQLite file")
struct ImportTests {
    let header = "email,name,language,themes,networks\n"

    /// A new folder with its store and an importer over it.
    func fresh() throws -> (TempDirectory, AppContext, AppDatabase, Importer) {
        let directory = try TempDirectory()
        let context = try makeContext(in: directory)
        let database = try context.openDatabase()
        return (directory, context, database, Importer(database: database, rules: context.importRules()))
    }

    @Test("an invalid row means nothing is imported; --skip-invalid imports the rest")
    func allOrNothing() throws {
        let (directory, _, database, importer) = try fresh()
        let file = try directory.write(
            "people.csv", header + "a@example.org,A,nl,,\nbroken,B,nl,,\nc@example.org,C,en,,x\n")

        #expect(throws: ImportError.self) { try importer.importAmbassadors(file: file, skipInvalid: false) }
        #expect(try database.ambassadors().isEmpty)

        let outcome = try importer.importAmbassadors(file: file, skipInvalid: true)
        #expect(outcome.count == UpsertCount(created: 2, updated: 0))
        #expect(outcome.skipped.map(\.line) == [3])
        #expect(try database.ambassadors().map(\.email) == ["a@example.org", "c@example.org"])
    }

    @Test("the error lists each bad row with file and line")
    func message() throws {
        let directory = try TempDirectory()
        let context = try makeContext(in: directory)
        let importer = Importer(database: try context.openDatabase(), rules: context.importRules())
        let file = try directory.write("people.csv", header + "bad,B,nl,,\nx@example.org,X,de,,\n")
        do {
            _ = try importer.importAmbassadors(file: file, skipInvalid: false)
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("2 invalid row(s); nothing was imported"))
            #expect(text.contains("\(file) line 2, email: 'bad' is not a valid e-mail address"))
            #expect(text.contains("\(file) line 3, language: unknown language 'de'"))
        }
    }

    @Test("re-importing updates by e-mail and never re-subscribes someone who left")
    func reimport() throws {
        let (directory, _, database, importer) = try fresh()
        let first = try directory.write("a.csv", header + "zoe@example.org,Zoe,nl,,linkedin\n")
        _ = try importer.importAmbassadors(file: first, skipInvalid: false)
        let zoe = try #require(try database.ambassador(email: "zoe@example.org"))
        try database.setStatus(.unsubscribed, ambassadorID: zoe.id!, now: fixedNow)

        let second = try directory.write(
            "b.csv",
            "\u{FEFF}" + header.replacingOccurrences(of: "\n", with: "\r\n")
                + "ZOE@example.org,\"Zoë d'Hondt\",en,,\"x;bluesky\"\r\nnew@example.org,New,,,\r\n")
        let outcome = try importer.importAmbassadors(file: second, skipInvalid: false)
        #expect(outcome.count == UpsertCount(created: 1, updated: 1))
        let updated = try #require(try database.ambassador(email: "zoe@example.org"))
        #expect(updated.name == "Zoë d'Hondt")
        #expect(updated.language == .en)
        #expect(updated.networks == [.x, .bluesky])
        #expect(updated.status == .unsubscribed)
        #expect(updated.id == zoe.id)

        // A staff list with only names and addresses keeps what people chose (on their page or in an earlier file).
        let third = try directory.write("c.csv", "email,name\nzoe@example.org,Zoë\nnew@example.org,\n")
        let again = try importer.importAmbassadors(file: third, skipInvalid: false)
        #expect(again.count == UpsertCount(created: 0, updated: 2))
        let kept = try #require(try database.ambassador(email: "zoe@example.org"))
        #expect(kept.name == "Zoë" && kept.language == .en && kept.networks == [.x, .bluesky], "\(kept)")
        #expect(try database.ambassador(email: "new@example.org")?.name == "New", "an empty name is no new name")
    }

    @Test("content import is all-or-nothing and re-import replaces weeks and texts")
    func content() throws {
        let (directory, context, database, importer) = try fresh()
        let bad = try directory.write(
            "bad.json",
            "[{\"url\": \"https://example.org/a\", \"title\": \"A\"}, {\"url\": \"https://example.org/b\", \"week\": \"2026-W54\", \"title\": \"B\"}]"
        )
        #expect(throws: ImportError.self) { try importer.importContent(file: bad, skipInvalid: false) }
        #expect(try database.contentItems().isEmpty)

        // A capitalised scheme (a spreadsheet's) is the same item on both stores (PostgreSQL's LIKE is case-sensitive).
        let good = try directory.write(
            "good.json", "[{\"url\": \"HTTPS://example.org/a\", \"title\": \"A\", \"texts\": [\"one\", \"two\"]}]")
        _ = try importer.importContent(file: good, skipInvalid: false)
        #expect(try database.contentItems().map(\.url) == ["https://example.org/a"])
        #expect(try database.contentItems(week: context.currentWeek).map(\.texts.count) == [2])
        let again = try directory.write(
            "again.json",
            "[{\"url\": \"https://example.org/a\", \"title\": \"A2\", \"weeks\": [\"2026-W50\"], \"texts\": [\"three\"]}]"
        )
        let outcome = try importer.importContent(file: again, skipInvalid: false)
        #expect(outcome.count == UpsertCount(created: 0, updated: 1))
        #expect(try database.contentItems(week: context.currentWeek).isEmpty)
        let moved = try database.contentItems(week: try ISOWeek(parsing: "2026-W50"))
        #expect(moved.map(\.title) == ["A2"])
        #expect(moved.first?.texts == [SuggestedText(text: "three")])
    }

    @Test("a re-import that names no week keeps the item's weeks; a new item without one goes to this week")
    func reimportKeepsWeeks() throws {
        let (directory, context, database, importer) = try fresh()
        let first = try directory.write(
            "first.json", "[{\"url\": \"https://example.org/a\", \"title\": \"A\", \"weeks\": [\"2026-W45\"]}]")
        _ = try importer.importContent(file: first, skipInvalid: false)
        // Weeks later the title is mended from an export without weeks: the mailed item must not move into this
        // week's digest (it would be mailed again).
        let mended = try directory.write(
            "mended.json",
            "[{\"url\": \"https://example.org/a\", \"title\": \"A, mended\"},"
                + " {\"url\": \"https://example.org/b\", \"title\": \"B\"}]")
        _ = try importer.importContent(file: mended, skipInvalid: false)
        let items = try database.contentItems().sorted { $0.url < $1.url }
        #expect(items.map(\.title) == ["A, mended", "B"])
        #expect(items.map(\.weeks) == [[try ISOWeek(parsing: "2026-W45")], [context.currentWeek]])
        // An explicit empty list still makes a draft.
        let draft = try directory.write(
            "draft.json", "[{\"url\": \"https://example.org/a\", \"title\": \"A\", \"weeks\": []}]")
        _ = try importer.importContent(file: draft, skipInvalid: false)
        #expect(try database.draftItems().map(\.url) == ["https://example.org/a"])
    }

    @Test("bad input names where: a JSON syntax error its line, a text's misspelt key its item, a doubled CSV column")
    func whereItIsWrong() throws {
        let (directory, _, database, importer) = try fresh()
        let comma = try directory.write(
            "comma.json",
            "[\n  {\"url\": \"https://example.org/a\", \"title\": \"A\"}\n  {\"url\": \"https://example.org/b\"}\n]\n")
        #expect {
            try importer.importContent(file: comma, skipInvalid: false)
        } throws: { "\($0)".contains("comma.json: not valid JSON: line 3, column 3: ") }
        let misspelt = try directory.write(
            "texts.json",
            "[{\"url\": \"https://example.org/a\", \"title\": \"A\", \"texts\": [{\"netwrk\": \"x\", \"text\": \"short\"}]}]"
        )
        #expect {
            try importer.importContent(file: misspelt, skipInvalid: false)
        } throws: { "\($0)".contains("line 1, texts: unknown key 'netwrk' in a text") }
        let doubled = try directory.write(
            "people.csv", "email,networks,name,networks\nann@example.org,x,Ann,\n")
        #expect {
            try importer.importAmbassadors(file: doubled, skipInvalid: false)
        } throws: { "\($0)".contains("\(doubled): line 1: column 'networks' appears twice in the header") }
        #expect(try database.contentItems().isEmpty && database.ambassadors().isEmpty)
    }

    @Test("a NUL character in content is refused with its line and field, and nothing is imported")
    func nulInContent() throws {
        let (directory, _, database, importer) = try fresh()
        let file = try directory.write(
            "nul.json",
            """
            [{"url": "https://example.org/a", "title": "A"},
             {"url": "https://example.org/b", "title": "B", "summary": "zon\\u0000wind"},
             {"url": "https://example.org/c", "title": "C", "texts": ["deel\\u0000dit"]}]
            """)
        do {
            _ = try importer.importContent(file: file, skipInvalid: false)
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("\(file) line 2, summary: contains a NUL character (U+0000)"), "\(text)")
            #expect(text.contains("\(file) line 3, texts: a suggested text contains a NUL character"), "\(text)")
        }
        #expect(try database.contentItems().isEmpty)
    }

    @Test("removing an ambassador keeps their deliveries as anonymous rows")
    func removal() throws {
        let directory = try TempDirectory()
        let context = try makeContext(in: directory)
        let database = try context.openDatabase()
        let saved = try database.addAmbassador(
            Ambassador(email: "gone@example.org", name: "Gone", language: .nl, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        let digest = try database.beginDigest(week: context.currentWeek, now: fixedNow)
        #expect(try database.enqueueDeliveries(digestID: digest.id, week: context.currentWeek, now: fixedNow) == 1)
        #expect(try database.removeAmbassador(email: "gone@example.org"))
        #expect(try database.ambassador(id: saved.id!) == nil)
        #expect(try database.deliveryCounts(digestID: digest.id)[.pending] == 1)
    }

    @Test("erasing someone who was only invited or signed up; an import never brings an erased person back")
    func erasedStayGone() throws {
        let (directory, _, database, importer) = try fresh()
        _ = try database.queueInvitations(
            [InvitationRequest(email: "ann@example.org", name: "Ann", language: .en)], force: false, cooldownDays: 30,
            now: fixedNow)
        try database.createSignup(
            tokenHash: "h",
            choices: MemberForm.Choices(
                email: "sam@example.org", name: "Sam", language: .nl, themes: [], networks: [.x]),
            now: fixedNow, expiresAt: fixedNow.addingTimeInterval(86_400))
        #expect(try database.removeAmbassador(email: "ann@example.org", now: fixedNow))
        #expect(try database.removeAmbassador(email: "sam@example.org", now: fixedNow))
        #expect(try database.invitations().isEmpty)
        #expect(try database.pendingSignup(tokenHash: "h", now: fixedNow) == nil)
        #expect(try database.isSuppressed("ann@example.org") && database.isSuppressed("sam@example.org"))
        #expect(try !database.removeAmbassador(email: "nobody@example.org", now: fixedNow))
        #expect(try !database.isSuppressed("nobody@example.org"), "nothing known, nothing kept")

        // Someone erased as an ambassador, and the two above: the staff list brings none of them back.
        _ = try database.addAmbassador(
            Ambassador(email: "gone@example.org", name: "Gone", language: .nl, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        #expect(try database.removeAmbassador(email: "gone@example.org", now: fixedNow))
        let file = try directory.write(
            "staff.csv",
            header + "gone@example.org,Gone,nl,,\nann@example.org,Ann,en,,\nsam@example.org,Sam,nl,,\n"
                + "new@example.org,New,nl,,\n")
        let outcome = try importer.importAmbassadors(file: file, skipInvalid: false)
        #expect(outcome.count.created == 1 && outcome.count.updated == 0)
        #expect(outcome.count.erased == ["gone@example.org", "ann@example.org", "sam@example.org"])
        #expect(try database.ambassadors().map(\.email) == ["new@example.org"])
    }
}
