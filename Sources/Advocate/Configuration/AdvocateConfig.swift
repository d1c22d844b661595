import AdvocateCore
import Foundation

/// Everything an operator configures, read from `config.json`. Every key has a default, so `{}` is a valid
/// configuration; unknown keys are errors. Secrets never live here: see ``Secrets``.
public struct AdvocateConfig: Sendable, Decodable {
    /// Name of the organisation, shown in digests.
    public var organization = "Advocate"
    /// Time zone in which ISO weeks start (IANA name).
    public var timeZone = TimeZone(identifier: "Europe/Amsterdam")!
    /// Language for ambassadors who name none.
    public var defaultLanguage = Language.nl
    /// Networks for ambassadors who name none.
    public var defaultNetworks: [Network] = [.linkedin, .x, .whatsapp, .email]
    /// SQLite database file (the embedded default).
    public var databasePath = "data/advocate.sqlite"
    /// A PostgreSQL database instead, `postgres://user@host:port/database`, for several machines; its password
    /// comes from `ADVOCATE_DATABASE_PASSWORD`.
    public var databaseURL: String? = nil
    /// Folder with the Mustache templates.
    public var templatesDirectory = "Templates"
    /// Public address of `advocate serve`, used in every link of a digest.
    public var publicBaseURL = "http://127.0.0.1:8080"
    /// File with secrets (KEY=VALUE lines), read when a secret is not in the environment.
    public var secretsFile: String? = nil
    /// The click and unsubscribe server.
    public var server = ServerConfig()
    /// Sending.
    public var mail = MailConfig()
    /// Themes and goals.
    public var plan = PlanConfig()
    /// Tracked links.
    public var links = LinksConfig()
    /// Self-service sign-up, preferences and invitations.
    public var membership = MembershipConfig()
    /// The digest's brand, size and disclosure.
    public var digest = DigestConfig()
    /// Fetching pages and feeds.
    public var fetch = FetchConfig()
    /// Feeds whose new entries become content.
    public var feeds: [FeedConfig] = []
    /// Editor sign-in.
    public var editor = EditorConfig()
    /// How clicks are judged and valued.
    public var clicks = ClicksConfig()

    /// The path part of ``publicBaseURL`` (empty, or e.g. `/advocate` behind a proxy that serves Advocate under a
    /// path): the server's own pages start their links and forms with it.
    public var basePath: String { URLComponents(string: publicBaseURL)?.path ?? "" }

    /// The folder relative paths are resolved against: the config file's folder.
    public var baseDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case organization, timeZone, defaultLanguage, defaultNetworks, databasePath, databaseURL, templatesDirectory
        case publicBaseURL, secretsFile, server, mail, plan, links, membership, digest, fetch, feeds, editor, clicks
    }

    /// The defaults.
    public init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        organization = try c.value(.organization, default: organization)
        let zone = try c.value(.timeZone, default: timeZone.identifier)
        guard let parsedZone = TimeZone(identifier: zone) else {
            throw ConfigError.invalidValue(path: "timeZone", reason: "'\(zone)' is not a known time zone")
        }
        timeZone = parsedZone
        let language = try c.value(.defaultLanguage, default: defaultLanguage.rawValue)
        guard let parsedLanguage = Language(rawValue: language) else {
            throw ConfigError.invalidValue(
                path: "defaultLanguage", reason: "unknown language '\(language)' (use: \(Language.codes))")
        }
        defaultLanguage = parsedLanguage
        if let codes = try c.decodeIfPresent([String].self, forKey: .defaultNetworks) {
            defaultNetworks = try Self.networks(codes, path: "defaultNetworks")
        }
        databasePath = try c.value(.databasePath, default: databasePath)
        databaseURL = try c.decodeIfPresent(String.self, forKey: .databaseURL)
        if let url = databaseURL, !PostgresLocation.isURL(url) {
            throw ConfigError.invalidValue(
                path: "databaseURL",
                reason:
                    "'\(PostgresLocation.redacted(url))' is not a postgres:// URL (a SQLite file goes in databasePath)")
        }
        templatesDirectory = try c.value(.templatesDirectory, default: templatesDirectory)
        publicBaseURL = try c.value(.publicBaseURL, default: publicBaseURL)
        guard let base = WebURL.validated(publicBaseURL), URLComponents(string: base)?.query == nil else {
            throw ConfigError.invalidValue(
                path: "publicBaseURL", reason: "'\(publicBaseURL)' is not an absolute http(s) URL without a query")
        }
        publicBaseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        if let components = URLComponents(string: publicBaseURL), components.scheme?.lowercased() == "http",
            !Self.isLoopback(components.host ?? "")
        {
            throw ConfigError.invalidValue(
                path: "publicBaseURL",
                reason: "'\(publicBaseURL)' must use https: the links in every mail, the one-click unsubscribe "
                    + "(RFC 8058) and the forms' cookies need it; plain http is accepted only for loopback addresses "
                    + "(127.0.0.1, localhost) while trying Advocate out")
        }
        secretsFile = try c.decodeIfPresent(String.self, forKey: .secretsFile)
        server = try c.value(.server, default: server)
        mail = try c.value(.mail, default: mail)
        plan = try c.value(.plan, default: plan)
        links = try c.value(.links, default: links)
        membership = try c.value(.membership, default: membership)
        digest = try c.value(.digest, default: digest)
        fetch = try c.value(.fetch, default: fetch)
        feeds = try c.value(.feeds, default: feeds)
        for (index, feed) in feeds.enumerated() {
            if let theme = feed.theme, !plan.themes.isEmpty, !plan.themes.contains(theme) {
                throw ConfigError.invalidValue(
                    path: "feeds[\(index)].theme",
                    reason: "'\(theme)' is not a theme of the plan (\(plan.themes.joined(separator: ", ")))")
            }
        }
        editor = try c.value(.editor, default: editor)
        clicks = try c.value(.clicks, default: clicks)
    }

    /// Whether `host` is this machine (127.0.0.0/8, ::1, localhost).
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127"
            && parts.allSatisfy { $0.count <= 3 && $0.allSatisfy(\.isNumber) && (Int($0) ?? 256) <= 255 }
    }

    /// Parses network codes, naming the bad entry.
    static func networks(_ codes: [String], path: String) throws -> [Network] {
        try codes.enumerated().map { index, code in
            guard let network = Network(rawValue: code.lowercased()) else {
                throw ConfigError.invalidValue(
                    path: "\(path)[\(index)]", reason: "unknown network '\(code)' (use: \(Network.codes))")
            }
            return network
        }
    }

    /// An absolute path for a configured one: relative paths start at the config file's folder.
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : baseDirectory.appendingPathComponent(path)
    }
}

/// Where `advocate serve` listens.
public struct ServerConfig: Sendable, Decodable {
    /// Interface to bind; 127.0.0.1 behind a reverse proxy.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (printed at start).
    public var port = 8080
    /// Reverse proxies whose forwarding header names the client (CIDR ranges); requests from anywhere else are
    /// taken to come from their own address, whatever they claim. Default: this machine (a proxy in front of a
    /// server that listens on loopback).
    public var trustedProxies: [AddressRange] = ["127.0.0.0/8", "::1/128"].map { AddressRange(parsing: $0)! }
    /// The header the trusted proxies set: `x-forwarded-for` (nginx's `$proxy_add_x_forwarded_for`) or
    /// `forwarded` (RFC 7239). Only that one is read, so a client cannot slip in the other.
    public var forwardedHeader = ForwardedHeader.xForwardedFor

    /// Which forwarding header to read.
    public enum ForwardedHeader: String, Sendable, Decodable {
        case xForwardedFor = "x-forwarded-for"
        case forwarded
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case host, port, trustedProxies, forwardedHeader }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.value(.host, default: host)
        port = try c.value(.port, default: port)
        if let text = try c.decodeIfPresent(String.self, forKey: .forwardedHeader) {
            guard let header = ForwardedHeader(rawValue: text.lowercased()) else {
                throw ConfigError.invalidValue(
                    path: "server.forwardedHeader", reason: "use 'x-forwarded-for' or 'forwarded'")
            }
            forwardedHeader = header
        }
        trustedProxies = try c.value(.trustedProxies, default: trustedProxies.map(\.description)).enumerated().map {
            index, text in
            guard let range = AddressRange(parsing: text) else {
                throw ConfigError.invalidValue(
                    path: "server.trustedProxies[\(index)]", reason: "'\(text)' is not an address or CIDR range")
            }
            return range
        }
        guard (0...65535).contains(port) else {
            throw ConfigError.invalidValue(
                path: "server.port", reason: "\(port) is not a TCP port (1-65535, or 0 for any free port)")
        }
    }
}

/// The plan the programme is measured against.
public struct PlanConfig: Sendable, Decodable {
    /// The themes content and ambassadors may have; empty means any.
    public var themes: [String] = []
    /// Goals per period.
    public var goals: [Goal] = []
    /// Whether digests name colleagues: `off` (default), `team` (totals only) or `opt-in` (top sharers who agreed).
    public var leaderboard = Leaderboard.off

    /// How much the digest says about colleagues.
    public enum Leaderboard: String, Sendable, Decodable, CaseIterable {
        case off
        case team
        case optIn = "opt-in"
    }

    /// Readable names of the themes per language (`{"werken-bij": {"nl": "Werken bij", "en": "Careers"}}`);
    /// a theme without one is shown as its code with the first letter capitalised.
    public var themeLabels: [String: [String: String]] = [:]

    /// The readable name of `theme` in `language`.
    public func label(theme: String, language: Language) -> String {
        if let label = themeLabels[theme]?[language.rawValue] { return label }
        let words = theme.replacingOccurrences(of: "-", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case themes, goals, leaderboard, themeLabels }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        themes = try c.value(.themes, default: themes).map { $0.lowercased() }
        goals = try c.value(.goals, default: goals)
        themeLabels = Dictionary(
            try c.value(.themeLabels, default: themeLabels).map { ($0.key.lowercased(), $0.value) },
            uniquingKeysWith: { first, _ in first })
        for theme in themeLabels.keys where !themes.contains(theme) {
            throw ConfigError.invalidValue(
                path: "plan.themeLabels.\(theme)", reason: "'\(theme)' is not in plan.themes")
        }
        // A label's language is a code this version speaks: `"NL"` or `"de"` would be ignored without a word.
        for (theme, labels) in themeLabels {
            for code in labels.keys where Language(rawValue: code) == nil {
                throw ConfigError.invalidValue(
                    path: "plan.themeLabels.\(theme).\(code)",
                    reason: "'\(code)' is not a language code (use: \(Language.codes))")
            }
        }
        let board = try c.value(.leaderboard, default: leaderboard.rawValue)
        guard let parsed = Leaderboard(rawValue: board) else {
            throw ConfigError.invalidValue(
                path: "plan.leaderboard", reason: "'\(board)' is not one of off, team, opt-in")
        }
        leaderboard = parsed
        for (index, goal) in goals.enumerated() {
            if let theme = goal.theme, !themes.isEmpty, !themes.contains(theme) {
                throw ConfigError.invalidValue(
                    path: "plan.goals[\(index)].theme", reason: "'\(theme)' is not in plan.themes")
            }
        }
    }
}

/// A target for one period: `2026-Q4`, `2026-12` or `2026`, optionally for one theme.
public struct Goal: Sendable, Decodable, Equatable {
    /// The period as written in the config.
    public var period: String
    /// The period; its dates are taken in the configured time zone.
    public var span: GoalPeriod
    public var theme: String?
    public var shares: Int?
    public var visits: Int?
    public var activeAmbassadors: Int?

    enum CodingKeys: String, CodingKey, CaseIterable { case period, theme, shares, visits, activeAmbassadors }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        period = try c.decode(String.self, forKey: .period)
        guard let span = GoalPeriod(parsing: period) else {
            throw ConfigError.invalidValue(
                path: ConfigLoader.keyPath(decoder.codingPath + [CodingKeys.period]),
                reason: "'\(period)' is not a period like 2026-Q4, 2026-12 or 2026")
        }
        self.span = span
        theme = try c.decodeIfPresent(String.self, forKey: .theme)?.lowercased()
        shares = try c.decodeIfPresent(Int.self, forKey: .shares)
        visits = try c.decodeIfPresent(Int.self, forKey: .visits)
        activeAmbassadors = try c.decodeIfPresent(Int.self, forKey: .activeAmbassadors)
    }
}

/// How tracked links behave.
public struct LinksConfig: Sendable, Decodable {
    /// Whether digests use tracked `/s/` links (needs `advocate serve` at publicBaseURL) or plain share dialogs.
    public var tracked = true
    /// `utm_medium` added to item URLs on visits.
    public var utmMedium = "employee-advocacy"
    /// Share buttons stop working this many weeks after their digest week; 0 means never.
    public var shareLinkWeeks = 26
    /// Links inside posts stop counting and redirecting this many weeks after the digest week; 0 means never.
    public var visitLinkWeeks = 0
    /// A digest's unsubscribe link unsubscribes for ever, but can sign someone up again only this many weeks after
    /// its digest week, so an old or forwarded mail cannot re-subscribe a person who left.
    public var resubscribeWeeks = 4

    enum CodingKeys: String, CodingKey, CaseIterable {
        case tracked, utmMedium, shareLinkWeeks, visitLinkWeeks, resubscribeWeeks
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tracked = try c.value(.tracked, default: tracked)
        utmMedium = try c.value(.utmMedium, default: utmMedium)
        shareLinkWeeks = try c.value(.shareLinkWeeks, default: shareLinkWeeks)
        visitLinkWeeks = try c.value(.visitLinkWeeks, default: visitLinkWeeks)
        resubscribeWeeks = try c.value(.resubscribeWeeks, default: resubscribeWeeks)
        if resubscribeWeeks < 1 {
            throw ConfigError.invalidValue(path: "links.resubscribeWeeks", reason: "must be 1 or more")
        }
        for (key, value) in [("shareLinkWeeks", shareLinkWeeks), ("visitLinkWeeks", visitLinkWeeks)] where value < 0 {
            throw ConfigError.invalidValue(path: "links.\(key)", reason: "must be 0 (never expire) or more")
        }
    }
}
