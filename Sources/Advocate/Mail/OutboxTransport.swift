import AdvocateCore
import Foundation

/// Writes each message as an `.eml` file instead of sending it: the embedded default, and `--dry-run DIR`.
/// Files are written under a temporary name and renamed, so a killed run never leaves half a message.
public struct OutboxTransport: MailTransport {
    let directory: URL

    /// Creates a transport writing into `directory` (created when missing).
    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw MailError.setup("cannot create the outbox folder \(directory.path)")
        }
    }

    public func makeSession() throws -> any MailSession { Session(directory: directory) }

    final class Session: MailSession {
        let directory: URL

        init(directory: URL) { self.directory = directory }

        func send(_ mail: OutgoingMail, handedOver: () throws -> Void) -> SendOutcome {
            do { try handedOver() } catch { return EndHeldBack.outcome(of: error) }
            let name = String(mail.messageID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
            let final = directory.appendingPathComponent("\(name).eml")
            let temporary = directory.appendingPathComponent(".\(name).eml.tmp")
            do {
                try Data(mail.data).write(to: temporary)
                if FileManager.default.fileExists(atPath: final.path) { try FileManager.default.removeItem(at: final) }
                try FileManager.default.moveItem(at: temporary, to: final)
                return .sent
            } catch {
                return .temporary("cannot write \(final.path): \(error.localizedDescription)")
            }
        }

        func close() {}
    }
}
