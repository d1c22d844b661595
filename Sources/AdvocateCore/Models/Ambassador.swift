import Foundation

/// Whether an ambassador receives digests.
public enum AmbassadorStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Receives the weekly digest.
    case active
    /// Asked to stop; gets nothing until they re-subscribe.
    case unsubscribed
    /// Signed up but has not confirmed yet.
    case pending
}

/// An employee who volunteered to share company content.
public struct Ambassador: Sendable, Codable, Hashable {
    /// The store's identifier; `nil` before the ambassador is saved.
    public var id: Int64?
    /// Lower-cased e-mail address, unique in the store.
    public var email: String
    /// Full name as the ambassador wants to be addressed.
    public var name: String
    /// Language of their digest.
    public var language: Language
    /// Themes they want content about; empty means all.
    public var themes: [String]
    /// Networks they share to; each gets a button in the digest.
    public var networks: [Network]
    /// Whether they receive digests.
    public var status: AmbassadorStatus
    /// When they joined the programme.
    public var joinedAt: Date
    /// Whether they agreed to be named on the leaderboard.
    public var leaderboardOptIn: Bool
    /// Which weekly digests they receive (every week or every other week, paused or not).
    public var schedule: DeliverySchedule

    /// Creates an ambassador.
    public init(
        id: Int64? = nil, email: String, name: String, language: Language, themes: [String] = [],
        networks: [Network], status: AmbassadorStatus = .active, joinedAt: Date, leaderboardOptIn: Bool = false,
        schedule: DeliverySchedule = DeliverySchedule()
    ) {
        self.schedule = schedule
        self.id = id
        self.email = email
        self.name = name
        self.language = language
        self.themes = themes
        self.networks = networks
        self.status = status
        self.joinedAt = joinedAt
        self.leaderboardOptIn = leaderboardOptIn
    }

    /// The first word of the name, for a greeting; the local part of the address when there is no name.
    public var firstName: String {
        let bytes = name.utf8
        if bytes.allSatisfy({ $0 < 0x80 }) {
            // ASCII names, most of them: the same as below without Foundation's trimming (spaces and tabs are the
            // only ASCII characters it trims), which cost more than the rest of a greeting.
            let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
            guard let start = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) })
            else { return String(email.split(separator: "@").first ?? "") }
            let trimmed = bytes[start...last]
            return String(decoding: trimmed[start..<(trimmed.firstIndex(of: 0x20) ?? trimmed.endIndex)], as: UTF8.self)
        }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if let first = trimmed.split(separator: " ").first { return String(first) }
        return String(email.split(separator: "@").first ?? "")
    }
}
