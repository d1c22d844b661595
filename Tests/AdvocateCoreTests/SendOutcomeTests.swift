import AdvocateCore
import Testing

@Suite("How the send ledgers record an outcome")
struct SendOutcomeTests {
    @Test("each outcome's status, note and retry, for digests and invitations alike")
    func ledgerEntries() {
        #expect(SendOutcome.sent.ledgerEntry(attempt: 1, maxAttempts: 3) == (.sent, nil, false))
        #expect(SendOutcome.permanent("550 no").ledgerEntry(attempt: 1, maxAttempts: 3) == (.failed, "550 no", false))
        #expect(SendOutcome.inDoubt("cut").ledgerEntry(attempt: 2, maxAttempts: 3) == (.inDoubt, "cut", false))
        #expect(SendOutcome.unusable("535").ledgerEntry(attempt: 1, maxAttempts: 3) == (.pending, "535", false))
        #expect(SendOutcome.temporary("451").ledgerEntry(attempt: 2, maxAttempts: 3) == (.retry, "451", true))
        #expect(
            SendOutcome.temporary("451").ledgerEntry(attempt: 3, maxAttempts: 3)
                == (.failed, "gave up after 3 attempts: 451", false))
    }
}
