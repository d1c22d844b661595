import AdvocateCore
import Foundation
import Logging

/// Sends the server's own mails (sign-up confirmations, welcomes, fresh links) one at a time on a dedicated
/// thread: libcurl blocks, so sending never runs on the event loops, and a request never waits for a relay.
/// A mail that cannot be sent is logged (without the address) and dropped: the person can simply try again.
public final class MailQueue: Sendable {
    private let queue = DispatchQueue(label: "advocate.mail-queue")
    let transport: any MailTransport
    private let logger: Logger

    /// Creates a queue over `transport`.
    public init(transport: any MailTransport, logger: Logger) {
        self.transport = transport
        self.logger = logger
    }

    private static func kind(_ outcome: SendOutcome) -> String {
        switch outcome {
        case .sent: "sent"
        case .temporary: "temporary failure"
        case .permanent: "refused"
        case .inDoubt: "no answer after the message"
        case .unusable: "the relay cannot be used"
        case .unreachable: "the relay could not be reached"
        }
    }

    /// Returns once every mail queued so far has been handed to the transport (or failed).
    func drain() async {
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }

    /// Queues a mail and returns at once.
    public func send(_ mail: OutgoingMail) {
        queue.async { [transport, logger] in
            do {
                let session = try transport.makeSession()
                defer { session.close() }
                let outcome = session.send(mail)
                // The relay's words may quote the address: only the kind of failure is logged.
                if outcome != .sent { logger.warning("a membership mail was not sent: \(Self.kind(outcome))") }
            } catch {
                logger.warning("a membership mail was not sent: the transport could not open")
            }
        }
    }
}

/// A transport that cannot send (its configuration is incomplete): every session fails to open with the reason.
struct UnavailableTransport: MailTransport {
    let reason: String

    func makeSession() throws -> any MailSession { throw MailError.setup(reason) }
}
