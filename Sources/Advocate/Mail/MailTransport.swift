import AdvocateCore

/// One message and its envelope.
public struct OutgoingMail: Sendable {
    /// MAIL FROM.
    public var sender: String
    /// RCPT TO.
    public var recipient: String
    /// Message-ID, used to name files.
    public var messageID: String
    /// The message with CRLF line ends.
    public var data: [UInt8]

    /// Creates a message to send.
    public init(sender: String, recipient: String, messageID: String, data: [UInt8]) {
        self.sender = sender
        self.recipient = recipient
        self.messageID = messageID
        self.data = data
    }
}

/// Where messages go. Each sending thread opens its own session (an SMTP connection, kept open across messages).
public protocol MailTransport: Sendable {
    /// Opens a session for one sending thread.
    func makeSession() throws -> any MailSession
}

/// Thrown by a `handedOver` hook that cannot let the end of a message go in time: the message is abandoned before
/// its end left, so it is certainly not delivered and is tried again later.
struct EndHeldBack: Error {
    var reason: String

    /// The outcome of a message whose `handedOver` hook threw `error`: held back, it is tried again; any other
    /// failure means the ledger cannot be written, which stops the run.
    static func outcome(of error: any Error) -> SendOutcome {
        if let held = error as? EndHeldBack { return .temporary(held.reason) }
        return .unusable("the ledger could not be written: \(error)")
    }
}

/// A channel for sending messages one after another from a single thread.
public protocol MailSession: AnyObject {
    /// Sends one message, blocking the calling thread until the outcome is known. `handedOver` runs right before
    /// the end of the message can leave (for SMTP: before the last bytes go to libcurl, which then adds the final
    /// dot), so a ledger can tell "certainly not delivered" from "maybe delivered". It runs at most once, on the
    /// calling thread. If it throws, the message is not completed and the outcome is ``SendOutcome/unusable(_:)``,
    /// or ``SendOutcome/temporary(_:)`` for ``EndHeldBack``.
    func send(_ mail: OutgoingMail, handedOver: () throws -> Void) -> SendOutcome
    /// Closes the channel.
    func close()
}

extension MailSession {
    /// Sends one message with nothing to record when it is handed over.
    public func send(_ mail: OutgoingMail) -> SendOutcome { send(mail, handedOver: {}) }
}
