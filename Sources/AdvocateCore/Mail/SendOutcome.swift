/// What became of one message handed to a transport.
public enum SendOutcome: Sendable, Equatable {
    /// The relay accepted it.
    case sent
    /// It was not delivered, and trying again later may work (4xx replies, connection trouble before the end of
    /// the message).
    case temporary(String)
    /// It was refused for good (5xx replies); never retried.
    case permanent(String)
    /// The whole message went out but no answer came back: it may or may not have been accepted.
    case inDoubt(String)
    /// The transport itself cannot work (login refused, TLS impossible, bad certificate): the message was not sent,
    /// and no other message will go either, so the run stops instead of failing every recipient.
    case unusable(String)
    /// The relay could not be reached, or it answered 421 (service not available) to the greeting: nothing about
    /// this recipient
    /// was learnt. Not an attempt: a relay that is down for a while (a restart, a failover) must not use up every
    /// recipient's attempts and give up on them; it is tried again later, for as long as it takes.
    case unreachable(String)

    /// How a send ledger records this outcome of attempt number `attempt` (1 for the first) when at most
    /// `maxAttempts` are made: the new status, the error to note, and whether it is to be tried again later.
    /// Digests and invitations share this one rule.
    /// Whether the outcome counts as an attempt on the recipient (an unreachable relay does not).
    public var isAttempt: Bool {
        if case .unreachable = self { return false }
        return true
    }

    /// The outcome as an attempt: an unreachable relay as a temporary failure (for a message whose end was
    /// handed over, which was an attempt whatever the reply).
    public var asAttempt: SendOutcome {
        if case .unreachable(let reason) = self { return .temporary(reason) }
        return self
    }

    public func ledgerEntry(attempt: Int, maxAttempts: Int) -> (status: DeliveryStatus, error: String?, retry: Bool) {
        switch self {
        case .sent: (.sent, nil, false)
        case .permanent(let reason): (.failed, reason, false)
        case .inDoubt(let reason): (.inDoubt, reason, false)
        case .unusable(let reason): (.pending, reason, false)
        case .unreachable(let reason): (.retry, reason, true)
        case .temporary(let reason) where attempt >= maxAttempts:
            (.failed, "gave up after \(attempt) attempts: \(reason)", false)
        case .temporary(let reason): (.retry, reason, true)
        }
    }

    /// Classifies the end of an SMTP transaction from the last reply code seen (0 for none) and whether the whole
    /// message, including the final dot, had been handed over. `detail` describes the failure for the ledger.
    public static func smtp(succeeded: Bool, replyCode: Int, messageComplete: Bool, detail: String) -> SendOutcome {
        if succeeded { return .sent }
        switch replyCode {
        case 400..<500: return .temporary("\(replyCode) \(detail)")
        case 500..<600: return .permanent("\(replyCode) \(detail)")
        default:
            // No final reply: the fate of a message that was fully sent is unknown.
            return messageComplete ? .inDoubt(detail) : .temporary(detail)
        }
    }
}
