import Foundation
import Testing

@testable import Advocate

/// The sign-in limits of the editor, on the sign-in itself (bcrypt at a test's low cost).
@Suite("Editor sign-in limits")
struct EditorAuthTests {
    func auth(maxConcurrentChecks: Int = 4, capacity: Int = 10_000) throws -> (TempDirectory, EditorAuth) {
        let directory = try TempDirectory(sqliteOnly: true)
        let database = try makeContext(in: directory).openDatabase()
        var settings = EditorConfig()
        settings.passwordCost = 4
        return (
            directory,
            EditorAuth(
                database: database, settings: settings, secure: false, now: { fixedNow },
                maxConcurrentChecks: maxConcurrentChecks, capacity: capacity)
        )
    }

    @Test("a flood of made-up names cannot wipe the counter of an address that keeps trying")
    func floodKeepsCounters() async throws {
        let (directory, auth) = try auth(capacity: 10)
        defer { withExtendedLifetime(directory) {} }
        // More counters than the capacity: a name and an address each.
        for index in 0..<12 {
            _ = try await auth.signIn(name: "nobody\(index)", password: "x", client: "10.0.0.\(index)")
        }
        var outcomes: [String] = []
        for index in 0..<21 {
            outcomes.append("\(try await auth.signIn(name: "guess\(index)", password: "x", client: "192.0.2.1"))")
        }
        #expect(outcomes.prefix(20).allSatisfy { $0 == "refused" }, "\(outcomes)")
        #expect(outcomes.last == "paused", "twenty from one address, however many names it makes up")
    }

    @Test("an attempt turned away because password checks are busy costs the account and the address no try")
    func busyIsNotAFailure() async throws {
        let (directory, auth) = try auth(maxConcurrentChecks: 0)
        defer { withExtendedLifetime(directory) {} }
        for _ in 0..<10 {
            #expect("\(try await auth.signIn(name: "anna", password: "x", client: "192.0.2.1"))" == "busy")
        }
        #expect(auth.failureCount("name:anna") == 0)
        #expect(auth.failureCount("client:192.0.2.1") == 0)
    }

    @Test("a session cookie is checked with a read: answered while another process holds the write lock")
    func sessionCheckReads() async throws {
        let directory = try TempDirectory(sqliteOnly: true)
        let database = try makeContext(in: directory).openDatabase()
        var settings = EditorConfig()
        settings.passwordCost = 4
        let auth = EditorAuth(database: database, settings: settings, secure: false, now: { fixedNow })
        let anna = try database.addEditor(name: "anna", passwordHash: "x", now: fixedNow)
        let token = SecretToken.make()
        try database.startEditorSession(tokenHash: SecretToken.hash(token), editorID: anna.id, now: fixedNow)
        // Anyone may send a cookie of no session: it must never wait for (nor take) the store's write lock, which
        // the click writer needs. A live session seen within the minute needs no write either.
        let holder = try WriteLockHolder(path: directory.path("data/test.sqlite"))
        defer { holder.release() }
        #expect(try await auth.editor(cookie: SecretToken.make()) == nil)
        #expect(try await auth.editor(cookie: token)?.name == "anna")
    }

    @Test("an IPv6 client counts per /64, an IPv4 one per address (also as ::ffff:a.b.c.d)")
    func clientKeys() {
        let six: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6]
        var neighbour = six
        neighbour[15] = 7
        #expect(EditorAuth.clientKey(six) == "2001:db8:1:2::/64")
        #expect(EditorAuth.clientKey(neighbour) == EditorAuth.clientKey(six))
        #expect(EditorAuth.clientKey([192, 0, 2, 1]) == "192.0.2.1")
        #expect(EditorAuth.clientKey(Array(repeating: 0, count: 10) + [0xFF, 0xFF, 192, 0, 2, 1]) == "192.0.2.1")
        #expect(EditorAuth.clientKey([192, 0, 2, 2]) != EditorAuth.clientKey([192, 0, 2, 1]))
    }
}
