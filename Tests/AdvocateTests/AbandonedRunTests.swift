import AdvocateCore
import Foundation
import Testing

@testable import Advocate

/// What a run settles of a dead run's deliveries, when a sender's hand-over lands in the middle of it.
@Suite("Settling a stopped run's deliveries")
struct AbandonedRunTests {
    let week = try! ISOWeek(parsing: "2026-W49")

    @Test("an end handed over while a stopped run is settled stays in doubt: it is never given back to be sent again")
    func handOverInBetween() throws {
        let directory = try TempDirectory(sqliteOnly: true)
        defer { withExtendedLifetime(directory) {} }
        let database = try makeContext(in: directory).openDatabase()
        for name in ["anke", "bert"] {
            _ = try database.addAmbassador(
                Ambassador(email: "\(name)@x.nl", name: name, language: .nl, networks: [.x], joinedAt: fixedNow),
                now: fixedNow)
        }
        _ = try database.addContent(
            ContentItem(url: "https://acme.example/a", title: "a", weeks: [week]), now: fixedNow)
        let digest = try database.beginDigest(week: week, now: fixedNow)
        #expect(try database.enqueueDeliveries(digestID: digest.id, week: week, now: fixedNow) == 2)
        let claimed = try database.claimDeliveries(digestID: digest.id, now: fixedNow, sender: 7, limit: 10)
        let (anke, bert) = try (#require(claimed.first), #require(claimed.last))
        // Run 7 handed Anke's end over and died. Bert's end is handed over (by a sender that lost its lock but goes
        // on, on PostgreSQL) in the moment between the settling's first statement and its second: the trigger puts
        // it there.
        try database.markHandedOver(deliveryID: anke.id, messageID: "<a@acme>", now: fixedNow, sender: 7)
        try database.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER handOver AFTER UPDATE OF status ON delivery
                    WHEN NEW.id = \(anke.id) AND NEW.status = 'inDoubt'
                    BEGIN
                        UPDATE delivery SET status = 'sending', attempts = attempts + 1, messageId = '<b@acme>',
                            handedOverAt = NEW.updatedAt
                        WHERE id = \(bert.id);
                    END
                    """)
        }
        let settled = try database.markAbandonedInDoubt(digestID: digest.id, now: fixedNow)
        #expect(settled.inDoubt == 1)
        func status(_ id: Int64) throws -> DeliveryStatus? {
            try database.deliveries(digestID: digest.id).first { $0.id == id }?.status
        }
        #expect(try status(anke.id) == .inDoubt)
        #expect(try status(bert.id) == .sending, "handed over: not given back to the queue")
        try database.write { db in try db.execute(sql: "DROP TRIGGER handOver") }
        #expect(try database.markAbandonedInDoubt(digestID: digest.id, now: fixedNow).inDoubt == 1)
        #expect(try status(bert.id) == .inDoubt)
        #expect(try database.claimDeliveries(digestID: digest.id, now: fixedNow, sender: 8, limit: 10).isEmpty)
    }

    @Test("a run waits only for retries nobody holds a claim on, and claims what it gave back again")
    func retryWaitSkipsClaimed() throws {
        let directory = try TempDirectory()
        defer { withExtendedLifetime(directory) {} }
        let database = try makeContext(in: directory).openDatabase()
        _ = try database.addAmbassador(
            Ambassador(email: "anke@x.nl", name: "anke", language: .nl, networks: [.x], joinedAt: fixedNow),
            now: fixedNow)
        _ = try database.addContent(
            ContentItem(url: "https://acme.example/a", title: "a", weeks: [week]), now: fixedNow)
        let digest = try database.beginDigest(week: week, now: fixedNow)
        try database.enqueueDeliveries(digestID: digest.id, week: week, now: fixedNow)
        let first = try #require(
            try database.claimDeliveries(digestID: digest.id, now: fixedNow, sender: 7, limit: 1).first)
        let due = fixedNow.addingTimeInterval(5)
        try database.recordOutcome(
            deliveryID: first.id, status: .retry, error: "421 relay unreachable", nextAttemptAt: due, now: fixedNow,
            sender: 7)
        #expect(try database.nextRetryTime(digestID: digest.id) == due)
        // Claimed again when due, then dropped by a run that gave up (the relay gone): no retry to wait for while
        // the claim stands (a run waiting for it would find nothing to claim, and spin), and one again once the
        // claim is given back.
        let later = due.addingTimeInterval(1)
        #expect(try database.claimDeliveries(digestID: digest.id, now: later, sender: 7, limit: 1).count == 1)
        #expect(try database.nextRetryTime(digestID: digest.id) == nil)
        try database.releaseClaims(digestID: digest.id, sender: 7)
        #expect(try database.nextRetryTime(digestID: digest.id) == due)
        #expect(
            try database.claimDeliveries(digestID: digest.id, now: later, sender: 7, limit: 1).map(\.id) == [first.id])
    }
}
