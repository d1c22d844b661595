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

/// URL-safe base64 without padding (RFC 4648 §5).
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes bytes. Hand-written because it runs for every link of every digest.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= input.count {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output += [
                alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)],
                alphabet[Int(value & 63)],
            ]
            index += 3
        }
        let rest = input.count - index
        if rest == 1 {
            let value = UInt32(input[index]) << 16
            output += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)]]
        } else if rest == 2 {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output += [
                alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)],
            ]
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// Decodes text, or `nil` when it is not base64url (no padding, no other characters).
    public static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value = values[Int(byte)]
            guard value >= 0 else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero padding of a valid length (2 or 4 bits), as a real encoder writes them.
        guard bits != 6, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
