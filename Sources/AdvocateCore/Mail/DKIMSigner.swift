import Crypto
import Foundation
import _CryptoExtras

/// Signs outgoing messages with DKIM (RFC 6376): relaxed/relaxed canonicalisation, RSA-SHA256 and, when an Ed25519
/// key is configured, a second Ed25519-SHA256 signature (RFC 8463), so receivers that know the newer algorithm can
/// use it and the others still find an RSA signature.
public struct DKIMSigner: Sendable {
    /// A signing key.
    public enum Key: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        /// The 32 raw bytes (the key type of this swift-crypto version is not `Sendable`).
        case ed25519(Data)

        var algorithm: String {
            switch self {
            case .rsa: "rsa-sha256"
            case .ed25519: "ed25519-sha256"
            }
        }
    }

    /// Why a key cannot be used.
    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The signing domain (`d=`), normally the From address's domain or a parent of it.
    public let domain: String
    /// The selector (`s=`): the key's DNS record is `SELECTOR._domainkey.DOMAIN`.
    public let selector: String
    /// One or two keys; each makes its own signature.
    public let keys: [Key]

    /// The headers signed when present, in this order. From is required by RFC 6376; the rest are what a receiver
    /// shows or acts on (List-Unsubscribe-Post is signed as RFC 8058 asks).
    public static let signedHeaders = [
        "from", "to", "subject", "date", "message-id", "reply-to", "mime-version", "content-type",
        "content-transfer-encoding", "list-id", "list-unsubscribe", "list-unsubscribe-post", "auto-submitted",
    ]

    /// Headers listed once more than they occur (RFC 6376 §8.15), so that nobody can add one (a second Subject, a
    /// Reply-To) to a signed message without breaking the signature.
    public static let overSignedHeaders = [
        "from", "to", "subject", "date", "message-id", "reply-to", "list-unsubscribe", "list-unsubscribe-post",
    ]

    /// Creates a signer.
    public init(domain: String, selector: String, keys: [Key]) {
        self.domain = domain
        self.selector = selector
        self.keys = keys
    }

    /// An RSA key from base64 DER (PKCS#1 or PKCS#8), as `advocate dkim keygen` writes it; at least 1024 bits.
    public static func rsaKey(base64 text: String) throws(KeyError) -> Key {
        guard let der = Data(base64Encoded: text.trimmingCharacters(in: .whitespaces)) else {
            throw KeyError(description: "the RSA key is not base64")
        }
        do {
            let key = try _RSA.Signing.PrivateKey(unsafeDERRepresentation: der)
            guard key.keySizeInBits >= 1024 else { throw KeyError(description: "the RSA key has fewer than 1024 bits") }
            return .rsa(key)
        } catch let error as KeyError {
            throw error
        } catch {
            throw KeyError(description: "the RSA key is not a DER private key: \(error)")
        }
    }

    /// An Ed25519 key from its 32 raw bytes in base64.
    public static func ed25519Key(base64 text: String) throws(KeyError) -> Key {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespaces)),
            (try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)) != nil
        else { throw KeyError(description: "the Ed25519 key is not 32 bytes in base64") }
        return .ed25519(raw)
    }

    /// The DNS TXT record that publishes a key's public half.
    public static func dnsRecord(for key: Key) -> String {
        switch key {
        case .rsa(let key): "v=DKIM1; k=rsa; p=\(key.publicKey.derRepresentation.base64EncodedString())"
        case .ed25519(let raw):
            "v=DKIM1; k=ed25519; p=\((try! Curve25519.Signing.PrivateKey(rawRepresentation: raw)).publicKey.rawRepresentation.base64EncodedString())"
        }
    }

    /// The message with a `DKIM-Signature` header per key in front. `message` has CRLF line ends; `time` is the
    /// signature's timestamp (`t=`).
    public func sign(_ message: [UInt8], time: Date) throws -> [UInt8] {
        let split = Self.headerEnd(message)
        let headerBytes = message[..<split]
        let body = message[split...].dropFirst(2)  // the empty line
        let bodyHash = Data(SHA256.hash(data: Self.canonicalBody(Array(body)))).base64EncodedString()
        let fields = Self.fields(String(decoding: headerBytes, as: UTF8.self))
        var signed: [(name: String, field: String)] = []
        for name in Self.signedHeaders {
            // The last occurrence is the one a verifier takes first (RFC 6376 §5.4.2).
            if let field = fields.last(where: { $0.name == name }) { signed.append(field) }
        }
        var prefix = ""
        for key in keys {
            var value = "v=1; a=\(key.algorithm); c=relaxed/relaxed; d=\(domain); s=\(selector);\r\n"
            let timestamp = "\tt=\(Int(time.timeIntervalSince1970)); h="
            value +=
                timestamp
                + Self.fold(
                    signed.map(\.name) + Self.overSignedHeaders, separator: ":", startColumn: timestamp.count + 7)
                + ";\r\n"
            value += "\tbh=\(bodyHash);\r\n\tb="
            let header = "DKIM-Signature: " + value
            var input = signed.map { Self.canonicalHeader($0.field) + "\r\n" }.joined()
            input += Self.canonicalHeader(header)
            let signature: Data
            switch key {
            case .rsa(let rsa):
                signature = try rsa.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5).rawRepresentation
            case .ed25519(let raw):
                let ed = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
                signature = try ed.signature(for: Data(SHA256.hash(data: Data(input.utf8))))
            }
            prefix += header + Self.chunks(signature.base64EncodedString()) + "\r\n"
        }
        return Array(prefix.utf8) + message
    }

    /// The message signed by each of `signers` in turn (none: unchanged). Each signature covers the original
    /// headers and body, so their order does not matter.
    public static func sign(_ message: [UInt8], with signers: [DKIMSigner], time: Date) throws -> [UInt8] {
        var signed = message
        for signer in signers { signed = try signer.sign(signed, time: time) }
        return signed
    }

    /// The signed message; should signing fail (it does not with a key that loaded), the message unsigned and one
    /// line on standard error, so the operator sees it instead of a silent loss of DMARC alignment.
    public static func signOrWarn(_ message: [UInt8], with signers: [DKIMSigner], time: Date) -> [UInt8] {
        do { return try sign(message, with: signers, time: time) } catch {
            FileHandle.standardError.write(Data("warning: a message was sent without DKIM: \(error)\n".utf8))
            return message
        }
    }

    // MARK: - Canonicalisation (RFC 6376 §3.4)

    /// Relaxed header canonicalisation: lower-case name, unfolded value, runs of white space as one space, none
    /// at either end of the value.
    static func canonicalHeader(_ field: String) -> String {
        guard let colon = field.firstIndex(of: ":") else { return field }
        let name = field[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        var value = ""
        var space = false
        for character in field[field.index(after: colon)...] where character != "\r\n" && character != "\n" {
            if character == " " || character == "\t" {
                space = true
            } else {
                if space && !value.isEmpty { value.append(" ") }
                space = false
                value.append(character)
            }
        }
        return "\(name):\(value)"
    }

    /// Relaxed body canonicalisation: white space at line ends removed, runs of it as one space, no empty lines at
    /// the end, and a CRLF after the last line.
    static func canonicalBody(_ body: [UInt8]) -> [UInt8] {
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        var index = 0
        while index < body.count {
            if body[index] == 13 && index + 1 < body.count && body[index + 1] == 10 {
                lines.append(line)
                line = []
                index += 2
                continue
            }
            line.append(body[index])
            index += 1
        }
        if !line.isEmpty { lines.append(line) }
        var output: [UInt8] = []
        var pendingEmpty = 0
        for raw in lines {
            var clean: [UInt8] = []
            var space = false
            for byte in raw {
                if byte == 32 || byte == 9 {
                    space = true
                } else {
                    if space { clean.append(32) }
                    space = false
                    clean.append(byte)
                }
            }
            if clean.isEmpty {
                pendingEmpty += 1
                continue
            }
            for _ in 0..<pendingEmpty { output += [13, 10] }
            pendingEmpty = 0
            output += clean + [13, 10]
        }
        return output
    }

    // MARK: - Parts

    /// Where the header ends: the index of the CRLF that starts the empty line.
    static func headerEnd(_ message: [UInt8]) -> Int {
        var index = 0
        while index + 3 < message.count {
            if message[index] == 13 && message[index + 1] == 10 && message[index + 2] == 13 && message[index + 3] == 10
            {
                return index + 2
            }
            index += 1
        }
        return message.count
    }

    /// The header fields with their lower-cased names, folded lines kept together.
    static func fields(_ header: String) -> [(name: String, field: String)] {
        var fields: [(name: String, field: String)] = []
        for line in header.components(separatedBy: "\r\n") where !line.isEmpty {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !fields.isEmpty {
                fields[fields.count - 1].field += "\r\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                fields.append((line[..<colon].trimmingCharacters(in: .whitespaces).lowercased(), line))
            }
        }
        return fields
    }

    /// Joins names, breaking the line before it passes about 70 columns.
    static func fold(_ items: [String], separator: String, startColumn: Int) -> String {
        var output = ""
        var column = startColumn
        for (index, item) in items.enumerated() {
            let piece = index == 0 ? item : separator + item
            if column + piece.count > 70 {
                output += separator + "\r\n\t" + item
                column = 1 + item.count
            } else {
                output += piece
                column += piece.count
            }
        }
        return output
    }

    /// A base64 value in lines of at most 70 characters, for the header.
    static func chunks(_ text: String) -> String {
        var lines: [Substring] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            lines.append(rest.prefix(70))
            rest = rest.dropFirst(70)
        }
        return lines.joined(separator: "\r\n\t")
    }
}
