import AdvocateCore
import Foundation

/// Secrets come from the environment first, then from the file named by `secretsFile` (KEY=VALUE lines, kept
/// out of git). They are never read from config.json.
public struct Secrets: Sendable {
    /// Environment variable (and file key) for link-signing keys: `ID:BASE64URL[,ID:BASE64URL…]`, current first.
    public static let linkKeysName = "ADVOCATE_LINK_KEYS"
    /// Environment variable for the SMTP password.
    public static let smtpPasswordName = "ADVOCATE_SMTP_PASSWORD"
    /// Environment variable for the dashboard's admin token.
    public static let adminTokenName = "ADVOCATE_ADMIN_TOKEN"
    /// Environment variable for the PostgreSQL password (with `databaseURL`).
    public static let databasePasswordName = "ADVOCATE_DATABASE_PASSWORD"
    /// The DKIM RSA private key, base64 DER on one line.
    public static let dkimRSAKeyName = "ADVOCATE_DKIM_RSA_KEY"
    /// The DKIM Ed25519 private key, base64 of its 32 bytes.
    public static let dkimEd25519KeyName = "ADVOCATE_DKIM_ED25519_KEY"

    var values: [String: String]
    var sourceHint: String

    /// Reads the environment and, when it exists, the secrets file.
    public static func load(config: AdvocateConfig, environment: [String: String]) throws -> Secrets {
        var values: [String: String] = [:]
        var hint = "set it in the environment"
        if let file = config.secretsFile {
            let url = config.resolve(file)
            hint += " or in the secrets file \(url.path) (advocate init creates one)"
            // A file that is there but cannot be read is an error, not "no secrets": the operator would be told to
            // create a file that exists, and `dkim keygen` could write one without the link keys.
            if FileManager.default.fileExists(atPath: url.path) {
                guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                    throw ConfigError.invalidValue(
                        path: "secretsFile",
                        reason: "\(url.path) cannot be read (its permissions?) or is not UTF-8 text")
                }
                // Any line break: a file edited on Windows ends its lines with CR LF, one Character in Swift.
                for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                    .enumerated()
                {
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                    guard let equals = trimmed.firstIndex(of: "=") else {
                        throw ConfigError.invalidValue(
                            path: "secretsFile", reason: "\(url.path) line \(number + 1) is not KEY=VALUE")
                    }
                    // An empty value is no value, as in the environment: `KEY=` left as a placeholder sets nothing.
                    let value = String(trimmed[trimmed.index(after: equals)...])
                    if !value.isEmpty { values[String(trimmed[..<equals])] = value }
                }
            }
        }
        for name in [
            linkKeysName, smtpPasswordName, adminTokenName, dkimRSAKeyName, dkimEd25519KeyName, databasePasswordName,
        ] {
            if let value = environment[name], !value.isEmpty { values[name] = value }
        }
        return Secrets(values: values, sourceHint: hint)
    }

    /// The link-signing keys, current first.
    public func linkKeys() throws -> LinkKeyring {
        guard let raw = values[Self.linkKeysName] else {
            throw ConfigError.missingSecret(name: Self.linkKeysName, key: "secretsFile", hint: sourceHint)
        }
        do { return try LinkKeyring(parsing: raw) } catch {
            throw ConfigError.invalidValue(path: Self.linkKeysName, reason: error.description)
        }
    }

    /// The SMTP password, when one is set.
    public var smtpPassword: String? { values[Self.smtpPasswordName] }

    /// The SMTP password, required because `mail.smtp.username` is set.
    public func requireSMTPPassword() throws -> String {
        guard let password = smtpPassword else {
            throw ConfigError.missingSecret(name: Self.smtpPasswordName, key: "mail.smtp.username", hint: sourceHint)
        }
        return password
    }

    /// The PostgreSQL password, when one is set.
    public var databasePassword: String? { values[Self.databasePasswordName] }

    /// The admin token for the dashboard, when one is set.
    public var adminToken: String? { values[Self.adminTokenName] }

    /// The shortest admin token a server accepts: bearer guesses are not rate-limited, so the token must be long.
    public static let adminTokenMinimum = 16

    /// The admin token for a server, when one is set; too short a token stops the server with a clear error instead
    /// of opening the dashboard and metrics to guessing.
    public func checkedAdminToken() throws -> String? {
        guard let token = adminToken else { return nil }
        guard token.count >= Self.adminTokenMinimum else {
            throw ConfigError.invalidValue(
                path: Self.adminTokenName,
                reason: "must be at least \(Self.adminTokenMinimum) characters (make one with: openssl rand -hex 24)")
        }
        return token
    }

    /// The DKIM keys the config asks for: none without `mail.dkim.selector`; otherwise the RSA key (required) and
    /// the Ed25519 key when one is set.
    public func dkimSigner(_ mail: MailConfig) throws -> [DKIMSigner] {
        guard let selector = mail.dkim.selector else { return [] }
        guard let rsa = values[Self.dkimRSAKeyName] else {
            throw ConfigError.missingSecret(name: Self.dkimRSAKeyName, key: "mail.dkim.selector", hint: sourceHint)
        }
        let domain = mail.dkim.domain ?? EmailAddress.domain(of: mail.fromAddress)
        var signers: [DKIMSigner] = []
        do {
            signers.append(DKIMSigner(domain: domain, selector: selector, keys: [try DKIMSigner.rsaKey(base64: rsa)]))
        } catch { throw ConfigError.invalidValue(path: Self.dkimRSAKeyName, reason: error.description) }
        if let ed = values[Self.dkimEd25519KeyName] {
            do {
                signers.append(
                    DKIMSigner(
                        domain: domain, selector: mail.dkim.ed25519Selector ?? "\(selector)-ed",
                        keys: [try DKIMSigner.ed25519Key(base64: ed)]))
            } catch { throw ConfigError.invalidValue(path: Self.dkimEd25519KeyName, reason: error.description) }
        }
        return signers
    }

    /// Writes a new secrets file with a fresh link key, readable by the owner only. Does nothing when it exists.
    public static func createFileIfMissing(config: AdvocateConfig) throws -> URL? {
        guard let file = config.secretsFile else { return nil }
        let url = config.resolve(file)
        if FileManager.default.fileExists(atPath: url.path) { return nil }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let text = """
            # Advocate secrets; keep this file out of git. Environment variables of the same name win.
            \(linkKeysName)=\(LinkKeyring.generateEntry(id: 1))

            """
        guard
            FileManager.default.createFile(
                atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw ConfigError.invalidValue(path: "secretsFile", reason: "cannot write \(url.path)") }
        return url
    }
}
