import Crypto
import Foundation

/// The keys link tokens are sealed with: the first is used for new links, the rest still open old ones, so a key
/// can be rotated without breaking links already in inboxes and posts.
public struct LinkKeyring: Sendable {
    /// One key and the id carried in each token sealed with it.
    public struct Key: @unchecked Sendable {  // SymmetricKey is immutable
        /// Id written in the clear as the token's first byte.
        public var id: UInt8
        /// AES-256 key derived from the configured secret.
        var cipherKey: SymmetricKey
    }

    /// Why a key list could not be read.
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The keys, current first.
    public private(set) var keys: [Key]

    /// Parses `ID:BASE64URL[,ID:BASE64URL…]`; each secret must decode to at least 32 bytes.
    public init(parsing text: String) throws(ParseError) {
        var keys: [Key] = []
        for entry in text.split(separator: ",") {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let id = UInt8(parts[0]) else {
                throw ParseError(description: "each key is ID:SECRET with ID a number 0-255")
            }
            guard let secret = Base64URL.decode(String(parts[1])), secret.count >= 32 else {
                throw ParseError(description: "key \(id): the secret must be base64url of at least 32 bytes")
            }
            guard !keys.contains(where: { $0.id == id }) else {
                throw ParseError(description: "key id \(id) is listed twice")
            }
            keys.append(Key(id: id, secret: secret))
        }
        guard !keys.isEmpty else { throw ParseError(description: "no keys listed") }
        self.keys = keys
    }

    /// A new `ID:SECRET` entry with 32 random bytes.
    public static func generateEntry(id: UInt8) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "\(id):\(Base64URL.encode(bytes))"
    }

    /// The key used for new tokens.
    public var current: Key { keys[0] }

    /// The key with `id`, if still listed.
    public func key(id: UInt8) -> Key? { keys.first { $0.id == id } }
}

extension LinkKeyring.Key {
    init(id: UInt8, secret: [UInt8]) {
        self.id = id
        cipherKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), info: Data("advocate link token v1".utf8),
            outputByteCount: 32)
    }
}
