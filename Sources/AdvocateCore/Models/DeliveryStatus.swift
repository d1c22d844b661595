/// Where one digest for one ambassador stands in the send ledger.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Not tried yet.
    case pending
    /// Handed to the relay right now; if the process dies in this state the outcome is unknown.
    case sending
    /// Accepted by the relay (250 after the final dot).
    case sent
    /// A temporary failure (4xx, connection trouble before the message was complete); tried again later.
    case retry
    /// A permanent failure (5xx) or too many attempts; never tried again.
    case failed
    /// The connection died after the whole message was sent but before the relay answered; not resent unless
    /// the operator asks.
    case inDoubt
    /// Nothing to send (no items for this ambassador this week).
    case skipped
}
