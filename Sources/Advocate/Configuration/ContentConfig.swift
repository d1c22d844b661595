import AdvocateCore
import Foundation

/// How `content add URL`, `content fetch` and the editor fetch pages and feeds.
public struct FetchConfig: Sendable, Decodable {
    /// Non-public address ranges fetching may reach anyway (CIDR, e.g. `127.0.0.1/32` for a local test server or
    /// `10.1.2.0/24` for an intranet newsroom). Loopback, private, link-local and metadata addresses are refused
    /// otherwise.
    public var allowAddresses: [AddressRange] = []
    /// Largest page or feed read, in bytes (after decompression).
    public var maxBytes = 2_000_000
    /// Longest a whole fetch may take, redirects included.
    public var timeoutSeconds = 15
    /// Redirects followed at most.
    public var maxRedirects = 5

    enum CodingKeys: String, CodingKey, CaseIterable {
        case allowAddresses, maxBytes, timeoutSeconds, maxRedirects
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allowAddresses = try c.value(.allowAddresses, default: [String]()).enumerated().map { index, text in
            guard let range = AddressRange(parsing: text) else {
                throw ConfigError.invalidValue(
                    path: "fetch.allowAddresses[\(index)]", reason: "'\(text)' is not an address or CIDR range")
            }
            return range
        }
        maxBytes = try c.value(.maxBytes, default: maxBytes)
        timeoutSeconds = try c.value(.timeoutSeconds, default: timeoutSeconds)
        maxRedirects = try c.value(.maxRedirects, default: maxRedirects)
        for (key, value, range) in [
            ("maxBytes", maxBytes, 1_000...50_000_000), ("timeoutSeconds", timeoutSeconds, 1...300),
            ("maxRedirects", maxRedirects, 0...20),
        ] where !range.contains(value) {
            throw ConfigError.invalidValue(
                path: "fetch.\(key)", reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
    }
}

/// One RSS 2.0 or Atom feed whose new entries become content items.
public struct FeedConfig: Sendable, Decodable, Hashable {
    /// The feed's address.
    public var url: String
    /// Theme of the items it adds.
    public var theme: String?
    /// Language its entries are written in (default: the programme's).
    public var language: Language?
    /// `week` (new entries are offered next week) or `draft` (the editor schedules them).
    public var schedule: Schedule = .week

    /// Where new entries go.
    public enum Schedule: String, Sendable, Decodable, Hashable {
        case week, draft
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, theme, language, schedule
    }

    public init(url: String, theme: String? = nil, language: Language? = nil, schedule: Schedule = .week) {
        self.url = url
        self.theme = theme
        self.language = language
        self.schedule = schedule
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let path = ConfigLoader.keyPath(decoder.codingPath)
        let raw = try c.decode(String.self, forKey: .url)
        guard let url = WebURL.validated(raw) else {
            throw ConfigError.invalidValue(path: "\(path).url", reason: "'\(raw)' is not an absolute http(s) URL")
        }
        self.url = url
        // Lower-cased as the plan's themes and the ambassadors' are, so that a feed's "Duurzaamheid" matches them.
        theme = try c.decodeIfPresent(String.self, forKey: .theme)?.lowercased()
        if let code = try c.decodeIfPresent(String.self, forKey: .language) {
            guard let known = Language(rawValue: code) else {
                throw ConfigError.invalidValue(
                    path: "\(path).language", reason: "unknown language '\(code)' (use: \(Language.codes))")
            }
            language = known
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .schedule) {
            guard let value = Schedule(rawValue: text) else {
                throw ConfigError.invalidValue(path: "\(path).schedule", reason: "use 'week' or 'draft'")
            }
            schedule = value
        }
    }
}

/// Editor sign-in.
public struct EditorConfig: Sendable, Decodable {
    /// A session ends this many hours after signing in.
    public var sessionHours = 12
    /// A session ends after this many minutes without a request.
    public var idleMinutes = 120
    /// Failed sign-ins per account, and per client address, in 15 minutes before sign-in pauses.
    public var maxFailedLogins = 5
    /// bcrypt cost of new passwords (10–15; each step doubles the work).
    public var passwordCost = 12

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sessionHours, idleMinutes, maxFailedLogins, passwordCost
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sessionHours = try c.value(.sessionHours, default: sessionHours)
        idleMinutes = try c.value(.idleMinutes, default: idleMinutes)
        maxFailedLogins = try c.value(.maxFailedLogins, default: maxFailedLogins)
        passwordCost = try c.value(.passwordCost, default: passwordCost)
        guard (10...15).contains(passwordCost) else {
            throw ConfigError.invalidValue(path: "editor.passwordCost", reason: "must be between 10 and 15")
        }
        for (key, value) in [
            ("sessionHours", sessionHours), ("idleMinutes", idleMinutes), ("maxFailedLogins", maxFailedLogins),
        ] where value < 1 {
            throw ConfigError.invalidValue(path: "editor.\(key)", reason: "must be 1 or more")
        }
    }
}
