import Foundation

/// One thing wrong with one row of an import file.
public struct ImportProblem: Error, Sendable, Equatable, CustomStringConvertible, Codable {
    /// The line of the file the row starts on.
    public var line: Int
    /// The column or key at fault, when there is one.
    public var field: String?
    /// What is wrong, in words a user can act on.
    public var message: String

    /// Creates a problem.
    public init(line: Int, field: String?, message: String) {
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "line \(line), \(field): \(message)" }
        return "line \(line): \(message)"
    }
}

/// A validated row, with the line it came from.
public struct ImportRow<Value: Sendable>: Sendable {
    /// The line of the file the row starts on.
    public var line: Int
    /// The validated value.
    public var value: Value
    /// Columns the row left empty (or the file lacks) that hold something chosen later: an update of a row that
    /// exists keeps what is stored for them.
    public var blank: Set<String> = []
}

/// The outcome of validating an import file: the rows that passed and the problems of those that did not.
public struct ImportValidation<Value: Sendable>: Sendable {
    /// Rows that passed every check.
    public var rows: [ImportRow<Value>]
    /// Every problem found, in file order.
    public var problems: [ImportProblem]
}

/// What an import checks values against; comes from the configuration.
public struct ImportRules: Sendable {
    /// Language for rows that leave it empty.
    public var defaultLanguage: Language
    /// Networks for rows that leave them empty.
    public var defaultNetworks: [Network]
    /// Themes of the plan; empty means any theme is accepted.
    public var knownThemes: [String]
    /// Week for content that names none.
    public var defaultWeek: ISOWeek
    /// Time stamped as the join date of new ambassadors.
    public var now: Date

    /// Creates rules.
    public init(
        defaultLanguage: Language, defaultNetworks: [Network], knownThemes: [String], defaultWeek: ISOWeek,
        now: Date
    ) {
        self.defaultLanguage = defaultLanguage
        self.defaultNetworks = defaultNetworks
        self.knownThemes = knownThemes
        self.defaultWeek = defaultWeek
        self.now = now
    }

    /// Parses a `;`-separated list of themes, checking each against the plan.
    func themes(_ raw: String) -> Result<[String], RuleViolation> {
        var seen: [String] = []
        for theme in Self.list(raw).map({ $0.lowercased() }) where !seen.contains(theme) {
            if !knownThemes.isEmpty && !knownThemes.contains(theme) {
                return .failure(
                    RuleViolation(
                        message: "unknown theme '\(theme)' (the plan has: \(knownThemes.joined(separator: ", ")))"))
            }
            seen.append(theme)
        }
        return .success(seen)
    }

    /// Parses a `;`-separated list of networks.
    func networks(_ raw: String) -> Result<[Network], RuleViolation> {
        var networks: [Network] = []
        for code in Self.list(raw) {
            guard let network = Network(rawValue: code.lowercased()) else {
                return .failure(RuleViolation(message: "unknown network '\(code)' (use: \(Network.codes))"))
            }
            if !networks.contains(network) { networks.append(network) }
        }
        return .success(networks.isEmpty ? defaultNetworks : networks)
    }

    /// Parses a language code, empty meaning the default.
    func language(_ raw: String) -> Result<Language, RuleViolation> {
        let code = raw.trimmingCharacters(in: .whitespaces).lowercased()
        if code.isEmpty { return .success(defaultLanguage) }
        guard let language = Language(rawValue: code) else {
            return .failure(RuleViolation(message: "unknown language '\(raw)' (use: \(Language.codes))"))
        }
        return .success(language)
    }

    static func list(_ raw: String) -> [String] {
        raw.split(whereSeparator: { $0 == ";" || $0 == "|" }).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }
}

/// A value that breaks an import rule.
struct RuleViolation: Error {
    var message: String
}
