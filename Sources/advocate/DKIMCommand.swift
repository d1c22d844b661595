import Advocate
import AdvocateCore
import ArgumentParser
import Crypto
import Foundation
import _CryptoExtras

extension AdvocateCommand {
    /// `advocate dkim …`
    struct DKIM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dkim", abstract: "DKIM keys and the DNS records that publish them.",
            subcommands: [Keygen.self, Record.self])
    }
}

extension AdvocateCommand.DKIM {
    /// `advocate dkim keygen`
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create DKIM keys in the secrets file and print the DNS TXT records to publish.",
            discussion: """
                Writes ADVOCATE_DKIM_RSA_KEY (RSA 2048) and, with --ed25519, ADVOCATE_DKIM_ED25519_KEY into the file \
                named by secretsFile (created readable by the owner only). Existing keys are kept unless --force. \
                Set mail.dkim.selector in config.json to the selector printed here.
                """)

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Also create an Ed25519 key for a second signature (RFC 8463).") var ed25519 = false
        @Flag(help: "Replace keys that exist.") var force = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                guard let file = context.config.secretsFile else {
                    throw ConfigError.missingKey(path: "secretsFile")
                }
                let url = context.config.resolve(file)
                // The file holds the link keys too: one that exists but cannot be read is never replaced.
                var lines: [String] = []
                if FileManager.default.fileExists(atPath: url.path) {
                    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                        throw ConfigError.invalidValue(
                            path: "secretsFile", reason: "\(url.path) cannot be read as UTF-8 text: nothing was changed"
                        )
                    }
                    lines = text.components(separatedBy: "\n").filter { !$0.isEmpty }
                }
                func has(_ name: String) -> Bool { lines.contains { $0.hasPrefix("\(name)=") } }
                var created: [String] = []
                for (name, wanted) in [(Secrets.dkimRSAKeyName, true), (Secrets.dkimEd25519KeyName, ed25519)]
                where wanted {
                    if has(name) && !force {
                        FileHandle.standardError.write(Data("\(name) exists; kept (use --force to replace)\n".utf8))
                        continue
                    }
                    let value =
                        name == Secrets.dkimRSAKeyName
                        ? try _RSA.Signing.PrivateKey(keySize: .bits2048).derRepresentation.base64EncodedString()
                        : Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString()
                    lines.removeAll { $0.hasPrefix("\(name)=") }
                    lines.append("\(name)=\(value)")
                    created.append(name)
                }
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                // Written beside it (mode 0600 from the start) and renamed over it: a crash never leaves half a file.
                let temporary = url.path + ".new"
                guard
                    FileManager.default.createFile(
                        atPath: temporary, contents: Data((lines.joined(separator: "\n") + "\n").utf8),
                        attributes: [.posixPermissions: 0o600]),
                    rename(temporary, url.path) == 0
                else {
                    try? FileManager.default.removeItem(atPath: temporary)
                    throw ConfigError.invalidValue(path: "secretsFile", reason: "cannot write \(url.path)")
                }
                if !created.isEmpty { print("Wrote \(created.joined(separator: " and ")) to \(url.path).") }
                let reloaded = try global.context()
                try Record.printRecords(reloaded, defaultSelector: "advocate")
            }
        }
    }

    /// `advocate dkim record`
    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the DNS TXT records for the configured DKIM keys.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingErrors { try Self.printRecords(try global.context(), defaultSelector: nil) }
        }

        static func printRecords(_ context: AppContext, defaultSelector: String?) throws {
            var mail = context.config.mail
            if mail.dkim.selector == nil, let defaultSelector { mail.dkim.selector = defaultSelector }
            let signers = try context.secrets.dkimSigner(mail)
            guard !signers.isEmpty else {
                throw ConfigError.missingKey(path: "mail.dkim.selector")
            }
            print("Publish these DNS TXT records (long values are split into strings of at most 255 characters):")
            for signer in signers {
                for key in signer.keys {
                    let record = DKIMSigner.dnsRecord(for: key)
                    var strings: [String] = []
                    var rest = Substring(record)
                    while !rest.isEmpty {
                        strings.append("\"\(rest.prefix(255))\"")
                        rest = rest.dropFirst(255)
                    }
                    print("\(signer.selector)._domainkey.\(signer.domain)  TXT  \(strings.joined(separator: " "))")
                }
            }
            if context.config.mail.dkim.selector == nil, let defaultSelector {
                print("Then set \"mail\": {\"dkim\": {\"selector\": \"\(defaultSelector)\"}} in config.json.")
            }
        }
    }
}
