import AdvocateCore
import Foundation
import Testing

@testable import Advocate

/// The journal of replies as a file, and the send pool's gate opening once a reply is kept.
@Suite("The journal of replies, as a file")
struct OutcomeJournalFileTests {
    func entry(error: String?, deliveryID: Int64 = 42) -> OutcomeJournal.Entry {
        OutcomeJournal.Entry(
            digestID: 7, deliveryID: deliveryID, attempt: 3, status: .retry, error: error,
            nextAttemptAt: Date(timeIntervalSince1970: 1_764_590_000.125),
            at: Date(timeIntervalSince1970: 1_764_589_999.5))
    }

    @Test(
        "a line read back is the entry written, on one line whatever the relay's error holds",
        arguments: [nil, "452 4.3.1 full", "554 one\r\ntwo", "a\\nb \\ c\rd\ne\\", "ünïcode ✓ - 1 sent", "\u{301}x"])
    func roundTrip(error: String?) throws {
        let written = entry(error: error)
        let line = OutcomeJournal.line(written)
        #expect(line.unicodeScalars.filter { $0 == "\n" }.count == 1 && line.hasSuffix("\n"))
        #expect(!line.unicodeScalars.contains("\r"))
        #expect(OutcomeJournal.entry(String(line.dropLast())) == written)
    }

    @Test("entries come back in order, none after emptying, and appending goes on after it")
    func appendAndEmpty() throws {
        let directory = try TempDirectory(sqliteOnly: true)
        let journal = try OutcomeJournal(databasePath: directory.path("advocate.sqlite"))
        #expect(journal.path == directory.path("advocate.sqlite.outcomes"))
        #expect(journal.append(entry(error: nil, deliveryID: 1)) && journal.append(entry(error: "x", deliveryID: 2)))
        #expect(try journal.entries().map(\.deliveryID) == [1, 2])
        try journal.empty()
        #expect(try journal.entries().isEmpty)
        #expect(journal.append(entry(error: nil, deliveryID: 3)))
        #expect(try journal.entries().map(\.deliveryID) == [3], "appends go to the end of the emptied file")
    }

    @Test("the next message's end may go once a job says its outcome is kept, before the job returns")
    func keptOpensTheGate() throws {
        var settings = SMTPConfig()
        settings.connections = 2
        settings.inDoubtShare = 1
        let pool = try SendPool(transport: InstantTransport(), settings: settings)
        let firstInItsEnd = DispatchSemaphore(value: 0)
        let secondHandedOver = DispatchSemaphore(value: 0)
        let sawSecond = Locked<Bool?>(nil)
        let mail = OutgoingMail(sender: "a@example.org", recipient: "b@example.org", messageID: "m", data: [])
        pool.submit(
            SendJob(
                prepare: { mail }, skip: {},
                end: { _, _, kept in
                    firstInItsEnd.signal()
                    // Not before: the gate opens when the job says the outcome is kept, not when its end begins.
                    let early = secondHandedOver.wait(timeout: .now() + 0.3) == .success
                    kept()
                    // The ledger's commit would run here: the second message's end goes meanwhile.
                    let seen = secondHandedOver.wait(timeout: .now() + 10) == .success
                    sawSecond.withLock { $0 = seen && !early }
                }))
        pool.submit(
            SendJob(
                prepare: { firstInItsEnd.wait(timeout: .now() + 10) == .success ? mail : nil }, skip: {},
                handedOver: { _ in secondHandedOver.signal() }, end: { _, _, _ in }))
        pool.drain()
        pool.shutdown()
        #expect(sawSecond.withLock { $0 } == true)
    }
}

/// A transport that takes every message at once: `handedOver` runs, and the outcome is "sent".
private struct InstantTransport: MailTransport {
    func makeSession() throws -> any MailSession { InstantSession() }
}

private final class InstantSession: MailSession {
    func send(_ mail: OutgoingMail, handedOver: () throws -> Void) -> SendOutcome {
        do { try handedOver() } catch { return EndHeldBack.outcome(of: error) }
        return .sent
    }

    func close() {}
}
