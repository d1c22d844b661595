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
