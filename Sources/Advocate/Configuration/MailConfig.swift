import AdvocateCore
import Foundation

/// How digests are delivered.
public struct MailConfig: Sendable, Decodable {
    /// Where messages go.
    public enum Transport: String, Sendable, Decodable, CaseIterable {
        /// Written as `.eml` files into ``MailConfig/outboxDirectory``.
        case outbox
        /// Sent over SMTP with libcurl.
        case smtp
    }

    /// Display name of the sender.
    public var fromName = "Advocate"
    /// Sender address; its domain is used in Message-IDs.
    public var fromAddress = "ambassadors@example.org"
    /// Optional Reply-To address (the communications team).
    public var replyTo: String? = nil
    /// Where messages go.
    public var transport = Transport.outbox
    /// Folder for the outbox transport.
    public var outboxDirectory = "outbox"
    /// SMTP relay settings for the smtp transport.
    public var smtp = SMTPConfig()
    /// The envelope sender (MAIL FROM, where bounces go), when it differs from ``fromAddress``.
    public var envelopeFrom: String? = nil
    /// DKIM signing: on when a selector is set (the keys come from the secrets).
    public var dkim = DKIMConfig()

    /// The address bounces go to.
    public var bounceAddress: String { envelopeFrom ?? fromAddress }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case fromName, fromAddress, replyTo, transport, outboxDirectory, smtp, envelopeFrom, dkim
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fromName = try c.value(.fromName, default: fromName).collapsingWhitespace
        let from = try c.value(.fromAddress, default: fromAddress)
        guard let address = EmailAddress.normalized(from) else {
            throw ConfigError.invalidValue(path: "mail.fromAddress", reason: "'\(from)' is not an e-mail address")
        }
        fromAddress = address
        if let reply = try c.decodeIfPresent(String.self, forKey: .replyTo) {
            guard let address = EmailAddress.normalized(reply) else {
                throw ConfigError.invalidValue(path: "mail.replyTo", reason: "'\(reply)' is not an e-mail address")
            }
            replyTo = address
        }
        let transportName = try c.value(.transport, default: transport.rawValue)
        guard let parsed = Transport(rawValue: transportName) else {
            throw ConfigError.invalidValue(
                path: "mail.transport",
                reason: "'\(transportName)' is not one of \(Transport.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        transport = parsed
        outboxDirectory = try c.value(.outboxDirectory, default: outboxDirectory)
        smtp = try c.value(.smtp, default: smtp)
        if let envelope = try c.decodeIfPresent(String.self, forKey: .envelopeFrom) {
            guard let address = EmailAddress.normalized(envelope) else {
                throw ConfigError.invalidValue(
                    path: "mail.envelopeFrom", reason: "'\(envelope)' is not an e-mail address")
            }
            envelopeFrom = address
        }
        dkim = try c.value(.dkim, default: dkim)
        if let domain = dkim.domain {
            let from = EmailAddress.domain(of: fromAddress)
            guard from == domain || from.hasSuffix("." + domain) else {
                throw ConfigError.invalidValue(
                    path: "mail.dkim.domain",
                    reason:
                        "'\(domain)' must be the domain of mail.fromAddress (\(from)) or a parent of it (DMARC alignment)"
                )
            }
        }
    }
}

/// DKIM signing of every outgoing message. The private keys are secrets: `ADVOCATE_DKIM_RSA_KEY` (required) and
/// `ADVOCATE_DKIM_ED25519_KEY` (optional second signature); `advocate dkim keygen` makes them and prints the DNS
/// records.
public struct DKIMConfig: Sendable, Decodable {
    /// The selector: the public key is published at `SELECTOR._domainkey.DOMAIN`. Signing is on when set.
    public var selector: String? = nil
    /// The selector of the Ed25519 key, when it has its own record (default: `SELECTOR-ed`).
    public var ed25519Selector: String? = nil
    /// The signing domain (default: the domain of mail.fromAddress).
    public var domain: String? = nil

    enum CodingKeys: String, CodingKey, CaseIterable { case selector, ed25519Selector, domain }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for (key, value) in [
            ("selector", try c.decodeIfPresent(String.self, forKey: .selector)),
            ("ed25519Selector", try c.decodeIfPresent(String.self, forKey: .ed25519Selector)),
        ] {
            guard let value else { continue }
            guard !value.isEmpty, value.utf8.count <= 63,
                value.unicodeScalars.allSatisfy({
                    $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == ".")
                })
            else {
                throw ConfigError.invalidValue(
                    path: "mail.dkim.\(key)", reason: "'\(value)' is not a DNS label (letters, digits, '-')")
            }
        }
        selector = try c.decodeIfPresent(String.self, forKey: .selector)
        ed25519Selector = try c.decodeIfPresent(String.self, forKey: .ed25519Selector)
        domain = try c.decodeIfPresent(String.self, forKey: .domain)?.lowercased()
    }
}

/// An SMTP relay reached through libcurl.
public struct SMTPConfig: Sendable, Decodable {
    /// How STARTTLS is used on `smtp://` URLs (`smtps://` is TLS from the start).
    public enum StartTLS: String, Sendable, Decodable, CaseIterable {
        /// Fail unless the server offers STARTTLS.
        case required
        /// Use STARTTLS when offered.
        case opportunistic
        /// Never upgrade (a relay on localhost).
        case off
    }

    /// `smtp://host:port` or `smtps://host:port`.
    public var url = "smtp://127.0.0.1:25"
    /// STARTTLS policy.
    public var startTLS = StartTLS.opportunistic
    /// User name for AUTH; the password comes from ADVOCATE_SMTP_PASSWORD.
    public var username: String? = nil
    /// CA bundle for a private relay's certificate.
    public var caFile: String? = nil
    /// Whether to check the relay's certificate; only ever turn off for tests.
    public var verifyPeer = true
    /// Seconds to wait for a connection.
    public var connectTimeoutSeconds = 10
    /// Seconds one message may take, end to end.
    public var timeoutSeconds = 60
    /// Parallel connections.
    public var connections = 4
    /// Messages per second across all connections; 0 means no limit.
    public var maxPerSecond = 0.0
    /// Messages per connection before it is closed and reopened.
    public var reconnectAfter = 100
    /// Attempts for a temporarily failing recipient before the delivery counts as failed.
    public var maxAttempts = 5
    /// First retry delay in seconds; doubles with each attempt.
    public var retryBaseSeconds = 1.0
    /// How long a run waits for retries that fall due; later ones are left for the next run.
    public var retryWithinRunSeconds = 120.0
    /// At most this share of the sending time has a message between the end of its data and its kept reply:
    /// the chance that a crash at a random moment leaves a message in doubt. Ends are paced to keep it; 1 takes
    /// them one at a time, unpaced.
    public var inDoubtShare = 0.5

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, startTLS, username, caFile, verifyPeer, connectTimeoutSeconds, timeoutSeconds, connections
        case maxPerSecond, reconnectAfter, maxAttempts, retryBaseSeconds, retryWithinRunSeconds, inDoubtShare
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.value(.url, default: url)
        if let parts = URLComponents(string: url), parts.user != nil || parts.password != nil {
            // Never echoed: the error goes to a terminal and the journal.
            throw ConfigError.invalidValue(
                path: "mail.smtp.url",
                reason: "holds a user name or password: use mail.smtp.username and ADVOCATE_SMTP_PASSWORD instead")
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, ["smtp", "smtps"].contains(scheme),
            let host = parts.host, !host.isEmpty, parts.path.isEmpty || parts.path == "/", parts.user == nil,
            parts.query == nil, parts.fragment == nil
        else {
            throw ConfigError.invalidValue(
                path: "mail.smtp.url", reason: "'\(url)' is not smtp://host[:port] or smtps://host[:port]")
        }
        // The EHLO name is appended as the URL's path: `smtp://relay/` would greet as `/acme.example`.
        if url.hasSuffix("/") { url.removeLast() }
        let tls = try c.value(.startTLS, default: startTLS.rawValue)
        guard let policy = StartTLS(rawValue: tls) else {
            throw ConfigError.invalidValue(
                path: "mail.smtp.startTLS",
                reason: "'\(tls)' is not one of \(StartTLS.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        startTLS = policy
        username = try c.decodeIfPresent(String.self, forKey: .username)
        // A password never goes out unencrypted because someone on the way removed STARTTLS from the relay's
        // answer: with a user name, `opportunistic` means `required` (`off` stays off: a relay on this machine).
        if username != nil, startTLS == .opportunistic, scheme == "smtp" { startTLS = .required }
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        verifyPeer = try c.value(.verifyPeer, default: verifyPeer)
        connectTimeoutSeconds = try c.value(.connectTimeoutSeconds, default: connectTimeoutSeconds)
        timeoutSeconds = try c.value(.timeoutSeconds, default: timeoutSeconds)
        connections = try c.value(.connections, default: connections)
        maxPerSecond = try c.value(.maxPerSecond, default: maxPerSecond)
        reconnectAfter = try c.value(.reconnectAfter, default: reconnectAfter)
        maxAttempts = try c.value(.maxAttempts, default: maxAttempts)
        retryBaseSeconds = try c.value(.retryBaseSeconds, default: retryBaseSeconds)
        retryWithinRunSeconds = try c.value(.retryWithinRunSeconds, default: retryWithinRunSeconds)
        inDoubtShare = try c.value(.inDoubtShare, default: inDoubtShare)
        for (key, value) in [
            ("connectTimeoutSeconds", connectTimeoutSeconds), ("timeoutSeconds", timeoutSeconds),
            ("connections", connections), ("reconnectAfter", reconnectAfter), ("maxAttempts", maxAttempts),
        ] where value < 1 {
            throw ConfigError.invalidValue(path: "mail.smtp.\(key)", reason: "must be at least 1")
        }
        guard retryBaseSeconds > 0, retryBaseSeconds <= 3_600 else {
            throw ConfigError.invalidValue(
                path: "mail.smtp.retryBaseSeconds", reason: "must be more than 0, at most 3600")
        }
        guard retryWithinRunSeconds >= 0 else {
            throw ConfigError.invalidValue(path: "mail.smtp.retryWithinRunSeconds", reason: "must be 0 or more")
        }
        guard maxPerSecond >= 0 else {
            throw ConfigError.invalidValue(path: "mail.smtp.maxPerSecond", reason: "must be 0 (no limit) or more")
        }
        guard inDoubtShare > 0 && inDoubtShare <= 1 else {
            throw ConfigError.invalidValue(
                path: "mail.smtp.inDoubtShare", reason: "must be more than 0 and at most 1 (1: ends unpaced)")
        }
    }
}
