import AdvocateCore
import Crypto
import Foundation

/// The random tokens the server hands out (sign-up links, CSRF cookies, editor sessions) and the hash under which a
/// token is stored, so that the database alone can never be used to act as anyone.
enum SecretToken {
    /// 32 random bytes, base64url (43 characters).
    static func make() -> String { Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255) }) }

    /// SHA-256 of the token, in hexadecimal.
    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
