import Advocate
import Foundation
import Testing

/// The aiosmtpd test server (Tests/Fixtures/smtp_server.py) running as a real process on a free loopback port.
/// Sendable by hand: immutable after `init`; `Process` and `Pipe` are thread-safe for the calls made here.
final class SMTPServerProcess: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let directory: URL
    let port: Int
    /// The server's self-signed certificate, when it offers STARTTLS.
    let certificate: String?

    init(directory: URL, tls: Bool = false, auth: String? = nil, rejectConnections: Int = 0) throws {
        self.directory = directory
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        var arguments = [packageRoot.appendingPathComponent("Tests/Fixtures/smtp_server.py").path, directory.path]
        if tls { arguments.append("--tls") }
        if let auth { arguments += ["--auth", auth] }
        if rejectConnections > 0 { arguments += ["--reject-connections", "\(rejectConnections)"] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let line = firstLine(of: output)
        let words = line.split(whereSeparator: \.isWhitespace)
        guard words.count == 3, words[0] == "READY", let port = Int(words[1]) else {
            process.terminate()
            throw SMTPServerError(
                description: "the SMTP test server did not start: \(line)")
        }
        self.port = port
        certificate = words[2] == "-" ? nil : String(words[2])
    }

    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()  // the server exits when its stdin closes
        process.terminate()
        process.waitUntilExit()
    }

    /// The envelope sender (MAIL FROM) of every message received, in order.
    func senders() -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            return parts.count > 2 ? String(parts[2]) : ""
        }
    }

    /// How many messages each recipient received.
    func receivedCounts() -> [String: Int] {
        Dictionary(grouping: received().map(\.recipient), by: { $0 }).mapValues(\.count)
    }

    /// Recipient and Message-ID of every message received, in order.
    func received() -> [(recipient: String, messageID: String)] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// How many client connections the server accepted (its own readiness probe not counted).
    func connections() -> Int {
        let text = (try? String(contentsOf: directory.appendingPathComponent("connections"), encoding: .utf8)) ?? ""
        return max(text.split(separator: "\n").count - 1, 0)
    }

    /// How many RCPTs the server has left unanswered (`stall-` and `stallonce-` addresses): a client is waiting.
    func stalls() -> Int {
        let text = (try? String(contentsOf: directory.appendingPathComponent("stalls"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").count
    }

    /// Lets the server answer the final dot of `hold-` messages.
    func release() {
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("release").path, contents: Data())
    }

    /// Every stored message, parsed by Python's standard `email` package.
    func parsedMessages() throws -> [[String: Any]] {
        let data = try runFixture("Tests/Fixtures/inspect_mail.py", [directory.path])
        return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    }
}

struct SMTPServerError: Error, CustomStringConvertible {
    var description: String
}

/// A config for sending to a local test server.
func smtpConfig(port: Int, certificate: String?, username: String?, extra: String = "") -> String {
    var smtp = "\"url\": \"smtp://127.0.0.1:\(port)\", \"startTLS\": \"\(certificate == nil ? "off" : "required")\""
    if let certificate { smtp += ", \"caFile\": \"\(certificate)\"" }
    if let username { smtp += ", \"username\": \"\(username)\"" }
    if !extra.isEmpty { smtp += ", " + extra }
    return """
        {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://advocate.example.org",
         "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
         "mail": {"transport": "smtp", "fromName": "Acme Ambassadeurs", "fromAddress": "ambassadors@acme.example",
                  "smtp": {\(smtp)}}}
        """
}

/// The once-only rule of a send that was killed and run again, checked against what `server` received: a sent
/// delivery's recipient got exactly one message, one in doubt at most one, no delivery is left in another state,
/// and nobody got two. Returns the messages per recipient and the addresses in doubt.
@discardableResult
func expectMailedOnce(_ ledger: [DeliveryListing], server: SMTPServerProcess) -> (
    received: [String: Int], inDoubt: [String]
) {
    let received = server.receivedCounts()
    var inDoubt: [String] = []
    for delivery in ledger {
        let email = delivery.email ?? ""
        switch delivery.status {
        case .sent: #expect(received[email] == 1, "\(email) must have exactly one message")
        case .inDoubt:
            inDoubt.append(email)
            #expect((received[email] ?? 0) <= 1, "\(email) in doubt got \(received[email] ?? 0)")
        default: Issue.record("\(email) ended as \(delivery.status)")
        }
    }
    #expect(received.values.allSatisfy { $0 == 1 }, "nobody got the digest twice")
    return (received, inDoubt)
}
