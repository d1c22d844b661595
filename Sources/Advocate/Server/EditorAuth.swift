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
    /// Password checks under way: bcrypt is slow on purpose, so a flood of attempts is turned away, not queued.
    private let checking = Mutex(0)
    static let window: TimeInterval = 15 * 60
    /// Password checks at once; an attempt beyond them is turned away (429) without counting as a failure.
    let maxConcurrentChecks: Int
    /// Failure counters kept at most; past it, those with the fewest failures go first.
    let capacity: Int
    /// Spent on unknown names too, at the configured cost, so that timing does not tell which names exist.
    private let decoy = Mutex<String?>(nil)

    /// Creates the sign-in over `database`; `secure` (an https publicBaseURL) makes the cookie `__Host-` and Secure.
    public init(
        database: AppDatabase, settings: EditorConfig, secure: Bool, now: @escaping @Sendable () -> Date,
        maxConcurrentChecks: Int = 4, capacity: Int = 10_000
    ) {
        self.database = database
        self.settings = settings
        self.secure = secure
        self.now = now
        self.maxConcurrentChecks = maxConcurrentChecks
        self.capacity = capacity
    }

    /// The counter a client address counts against: the address, or for IPv6 its /64 (one host commonly holds a
    /// whole /64, so counting per address would give it billions of tries).
    static func clientKey(_ address: [UInt8]) -> String {
        let address = AddressRange.unmapped(address)
        guard address.count == 16 else { return AddressRange.text(address) }
        return AddressRange.text(Array(address[0..<8]) + Array(repeating: 0, count: 8)) + "/64"
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
        /// Turned away because ``maxConcurrentChecks`` password checks are running: no try used, try again soon.
        case busy
    }

    /// Checks a name and password (on a GCD thread: bcrypt takes a good fraction of a second by design). The
    /// attempt counts as a failure from the moment it starts, so parallel attempts cannot slip past the limit; a
    /// success takes it back. `client` is `nil` when the address is unknown.
    func signIn(name: String, password: String, client: String?) async throws -> Outcome {
        guard name.count <= 64, password.utf8.count <= 1_024 else { return .refused }
        let keys = ["name:\(name.lowercased())"] + (client.map { ["client:\($0)"] } ?? [])
        // A slot first: an attempt turned away because checks are busy is not a failed password, and must not use
        // up the account's or the address's tries.
        let started = checking.withLock { count in
            guard count < maxConcurrentChecks else { return false }
            count += 1
            return true
        }
        guard started else { return .busy }
        defer { checking.withLock { $0 -= 1 } }
        guard reserve(keys) else { return .paused }
        let credentials = try await database.perform { try $0.editorCredentials(name: name) }
        let decoy = decoyHash()
        let valid = try await offThePool { Bcrypt.verify(password, hash: credentials?.passwordHash ?? decoy) }
        guard valid, let editor = credentials?.editor else { return .refused }
        let token = SecretToken.make()
        let hash = SecretToken.hash(token)
        let time = now()
        try await database.perform { try $0.startEditorSession(tokenHash: hash, editorID: editor.id, now: time) }
        failures.withLock { state in
            for key in keys.dropFirst() where !(state[key]?.isEmpty ?? true) { state[key]!.removeLast() }
            state[keys[0]] = nil  // the right password clears the account's count
        }
        let cookie =
            "\(cookieName)=\(token); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(settings.sessionHours * 3600)"
            + (secure ? "; Secure" : "")
        return .signedIn(editor, setCookie: cookie)
    }

    private func decoyHash() -> String {
        decoy.withLock { value in
            if let value { return value }
            let hash = Bcrypt.hash("advocate-decoy-password", cost: UInt8(clamping: settings.passwordCost))
            value = hash
            return hash
        }
    }

    /// The editor whose session cookie this is, if the session is live.
    func editor(cookie: String?) async throws -> Editor? {
        guard let cookie, cookie.utf8.count == 43 else { return nil }
        let hash = SecretToken.hash(cookie)
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
            let hash = SecretToken.hash(cookie)
            try await database.perform { try $0.endEditorSession(tokenHash: hash) }
        }
        return "\(cookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (secure ? "; Secure" : "")
    }

    /// Counts an attempt against every key unless one of them is already at its limit (then: paused).
    private func reserve(_ keys: [String]) -> Bool {
        let time = now()
        return failures.withLock { state in
            if state.count > capacity {
                state = state.filter { $0.value.contains { time.timeIntervalSince($0) < Self.window } }
                // Still full (a flood of made-up names or addresses): keep the half with the most failures, the
                // latest first among equals, so that a flood of single tries cannot wipe the counter of an address
                // or account that is being tried again and again.
                if state.count > capacity {
                    let kept = state.sorted {
                        ($0.value.count, $0.value.last ?? .distantPast) > (
                            $1.value.count, $1.value.last ?? .distantPast
                        )
                    }.prefix(capacity / 2)
                    state = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
                }
            }
            for key in keys {
                state[key] = (state[key] ?? []).filter { time.timeIntervalSince($0) < Self.window }
                if state[key]!.count >= limit(for: key) { return false }
            }
            for key in keys { state[key]!.append(time) }
            return true
        }
    }

    /// Per account the configured number; per client address four times as many (colleagues behind one NAT).
    private func limit(for key: String) -> Int {
        key.hasPrefix("name:") ? settings.maxFailedLogins : settings.maxFailedLogins * 4
    }

    /// The failures counted against `key` in the window (for tests).
    func failureCount(_ key: String) -> Int {
        let time = now()
        return failures.withLock { $0[key]?.filter { time.timeIntervalSince($0) < Self.window }.count ?? 0 }
    }

}

/// A rule a value broke, said in words.
public struct ValidationFailure: Error, CustomStringConvertible {
    public var description: String
}
