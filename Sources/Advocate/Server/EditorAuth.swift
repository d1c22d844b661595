import AdvocateCore
import Crypto
import Foundation
import HummingbirdBcrypt
import Synchronization

/// Editor sign-in: bcrypt-checked passwords, sessions kept as a random cookie of which only a SHA-256 hash is
/// stored, and a limit on failed sign-ins per account and per client address (15-minute window).
public final class EditorAuth: Sendable {
    let database: AppDatabase
    let settings: EditorConfig
    let secure: Bool
    let now: @Sendable () -> Date
    private let failures = Mutex<[String: [Date]]>([:])
    static let window: TimeInterval = 15 * 60
    /// Spent on unknown names too, so that timing does not tell which names exist.
    private static let decoy = Bcrypt.hash("advocate-decoy-password", cost: 10)

    /// Creates the sign-in over `database`; `secure` (an https publicBaseURL) makes the cookie `__Host-` and Secure.
    public init(database: AppDatabase, settings: EditorConfig, secure: Bool, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.settings = settings
        self.secure = secure
        self.now = now
    }

    /// The session cookie's name.
    var cookieName: String { secure ? "__Host-advocate_editor" : "advocate_editor" }

    /// A bcrypt hash of a new password, after checking it is long enough.
    public static func hash(password: String, cost: Int) throws -> String {
        guard password.count >= 12 else {
            throw ValidationFailure(description: "a password needs at least 12 characters")
        }
        guard password.utf8.count <= 72 else {
            throw ValidationFailure(description: "bcrypt reads at most 72 bytes of a password")
        }
        return Bcrypt.hash(password, cost: UInt8(clamping: cost))
    }

    /// The outcome of a sign-in attempt.
    public enum Outcome: Sendable {
        case signedIn(Editor, setCookie: String)
        case refused
        case paused
    }

    /// Checks a name and password (on a GCD thread: bcrypt takes a good fraction of a second by design).
    func signIn(name: String, password: String, client: String) async throws -> Outcome {
        let keys = ["name:\(name.lowercased())", "client:\(client)"]
        guard !isPaused(keys) else { return .paused }
        let credentials = try await database.perform { try $0.editorCredentials(name: name) }
        let valid = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Bcrypt.verify(password, hash: credentials?.passwordHash ?? Self.decoy))
            }
        }
        guard valid, let editor = credentials?.editor else {
            noteFailure(keys)
            return .refused
        }
        let token = Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
        let hash = Self.digest(token)
        let time = now()
        try await database.perform { try $0.startEditorSession(tokenHash: hash, editorID: editor.id, now: time) }
        failures.withLock { state in for key in keys.prefix(1) { state[key] = nil } }
        let cookie =
            "\(cookieName)=\(token); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(settings.sessionHours * 3600)"
            + (secure ? "; Secure" : "")
        return .signedIn(editor, setCookie: cookie)
    }

    /// The editor whose session cookie this is, if the session is live.
    func editor(cookie: String?) async throws -> Editor? {
        guard let cookie, cookie.utf8.count == 43 else { return nil }
        let hash = Self.digest(cookie)
        let time = now()
        let maxAge = TimeInterval(settings.sessionHours * 3600)
        let maxIdle = TimeInterval(settings.idleMinutes * 60)
        return try await database.perform {
            try $0.editorSession(tokenHash: hash, now: time, maxAge: maxAge, maxIdle: maxIdle)
        }
    }

    /// Ends the session and returns the `Set-Cookie` value that clears the cookie.
    func signOut(cookie: String?) async throws -> String {
        if let cookie {
            let hash = Self.digest(cookie)
            try await database.perform { try $0.endEditorSession(tokenHash: hash) }
        }
        return "\(cookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (secure ? "; Secure" : "")
    }

    private func isPaused(_ keys: [String]) -> Bool {
        let time = now()
        return failures.withLock { state in
            keys.contains { key in
                (state[key] ?? []).filter { time.timeIntervalSince($0) < Self.window }.count >= limit(for: key)
            }
        }
    }

    /// Per account the configured number; per client address four times as many (colleagues behind one NAT).
    private func limit(for key: String) -> Int {
        key.hasPrefix("name:") ? settings.maxFailedLogins : settings.maxFailedLogins * 4
    }

    private func noteFailure(_ keys: [String]) {
        let time = now()
        failures.withLock { state in
            if state.count > 10_000 { state.removeAll() }
            for key in keys {
                state[key] = (state[key] ?? []).filter { time.timeIntervalSince($0) < Self.window } + [time]
            }
        }
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// A rule a value broke, said in words.
public struct ValidationFailure: Error, CustomStringConvertible {
    public var description: String
}
