import Foundation

/// What a person may say about themselves on the join form and the preferences page, as submitted (raw strings),
/// checked field by field so that each problem can be shown next to its field. Nothing here trusts the browser:
/// lengths, control characters, languages, themes and networks are all checked against the programme's rules.
public struct MemberForm: Sendable, Equatable {
    public var email: String
    public var name: String
    public var language: String
    public var themes: [String]
    public var networks: [String]
    public var frequency: String
    public var pausedUntil: String
    public var leaderboard: Bool

    /// Creates a form from submitted values.
    public init(
        email: String = "", name: String = "", language: String = "", themes: [String] = [], networks: [String] = [],
        frequency: String = "weekly", pausedUntil: String = "", leaderboard: Bool = false
    ) {
        self.email = email
        self.name = name
        self.language = language
        self.themes = themes
        self.networks = networks
        self.frequency = frequency
        self.pausedUntil = pausedUntil
        self.leaderboard = leaderboard
    }

    /// A field's problem; the page words it in the person's language.
    public enum Problem: String, Sendable, Hashable, CaseIterable {
        case missing, tooLong, controlCharacters, invalidEmail, domainNotAllowed, unknownLanguage, unknownTheme
        case unknownNetwork, noNetwork, invalidDay, dayInPast, dayTooFar, unknownFrequency
    }

    /// The rules a form is checked against.
    public struct Rules: Sendable {
        /// Domains whose addresses may join (lower case); empty means sign-up is closed.
        public var allowedDomains: [String]
        /// The plan's themes; empty means any theme is unknown (there are none to choose).
        public var themes: [String]
        /// Today, in the programme's time zone.
        public var today: CalendarDay
        /// The longest pause, in days.
        public var maxPauseDays = 366
        /// Whether a name must be given (forms ask for one; the operator's CLI may keep an imported empty name).
        public var requireName = true
        /// Whether any theme is accepted (the operator's CLI when the plan names no themes, as imports do).
        public var anyTheme = false

        /// Creates rules.
        public init(allowedDomains: [String], themes: [String], today: CalendarDay) {
            self.allowedDomains = allowedDomains.map { $0.lowercased() }
            self.themes = themes
            self.today = today
        }
    }

    /// The checked choices.
    public struct Choices: Sendable, Equatable {
        public var email: String
        public var name: String
        public var language: Language
        public var themes: [String]
        public var networks: [Network]
        public var frequency: Frequency
        public var pausedUntil: CalendarDay?
        public var leaderboard: Bool

        /// Creates choices.
        public init(
            email: String, name: String, language: Language, themes: [String], networks: [Network],
            frequency: Frequency = .weekly, pausedUntil: CalendarDay? = nil, leaderboard: Bool = false
        ) {
            self.email = email
            self.name = name
            self.language = language
            self.themes = themes
            self.networks = networks
            self.frequency = frequency
            self.pausedUntil = pausedUntil
            self.leaderboard = leaderboard
        }
    }

    /// The longest name accepted, the same as imports allow.
    public static let maxNameLength = 200
    private static let utc = TimeZone(identifier: "UTC")!

    /// Checks every field (the e-mail address only when `checkEmail`: the preferences page does not change it) and
    /// returns the choices, or every problem by field name.
    public func validate(_ rules: Rules, checkEmail: Bool = true) -> Result<Choices, FieldProblems> {
        var problems: [String: Problem] = [:]
        var address = ""
        if checkEmail {
            let raw = email.trimmingCharacters(in: .whitespaces)
            if raw.isEmpty {
                problems["email"] = .missing
            } else if raw.count > 254 {
                problems["email"] = .tooLong
            } else if let normalized = EmailAddress.normalized(raw) {
                address = normalized
                if !rules.allowedDomains.contains(EmailAddress.domain(of: normalized)) {
                    problems["email"] = .domainNotAllowed
                }
            } else {
                problems["email"] = .invalidEmail
            }
        }
        let cleanName = name.collapsingWhitespace
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\t" }) {
            problems["name"] = .controlCharacters
        } else if cleanName.isEmpty && rules.requireName {
            problems["name"] = .missing
        } else if cleanName.count > Self.maxNameLength {
            problems["name"] = .tooLong
        }
        let chosenLanguage = Language(rawValue: language)
        if chosenLanguage == nil { problems["language"] = language.isEmpty ? .missing : .unknownLanguage }
        var chosenThemes: [String] = []
        for theme in themes where !chosenThemes.contains(theme) {
            guard rules.anyTheme || rules.themes.contains(theme) else {
                problems["themes"] = .unknownTheme
                break
            }
            chosenThemes.append(theme)
        }
        var chosenNetworks: [Network] = []
        for code in networks {
            guard let network = Network(rawValue: code) else {
                problems["networks"] = .unknownNetwork
                break
            }
            if !chosenNetworks.contains(network) { chosenNetworks.append(network) }
        }
        if chosenNetworks.isEmpty && problems["networks"] == nil { problems["networks"] = .noNetwork }
        let chosenFrequency = Frequency(rawValue: frequency)
        if chosenFrequency == nil { problems["frequency"] = .unknownFrequency }
        var pause: CalendarDay?
        let rawPause = pausedUntil.trimmingCharacters(in: .whitespaces)
        if !rawPause.isEmpty {
            if let day = CalendarDay(parsing: rawPause) {
                let limit = CalendarDay(
                    rules.today.start(in: Self.utc).addingTimeInterval(Double(rules.maxPauseDays) * 86_400),
                    in: Self.utc)
                if day < rules.today {
                    problems["pausedUntil"] = .dayInPast
                } else if limit < day {
                    problems["pausedUntil"] = .dayTooFar
                } else {
                    pause = day
                }
            } else {
                problems["pausedUntil"] = .invalidDay
            }
        }
        guard problems.isEmpty, let chosenLanguage, let chosenFrequency else {
            return .failure(FieldProblems(problems))
        }
        return .success(
            Choices(
                email: address, name: cleanName, language: chosenLanguage, themes: chosenThemes,
                networks: chosenNetworks, frequency: chosenFrequency, pausedUntil: pause, leaderboard: leaderboard))
    }
}

/// The problems of a submitted form, by field name.
public struct FieldProblems: Error, Sendable, Equatable {
    public var byField: [String: MemberForm.Problem]

    /// Creates the problems.
    public init(_ byField: [String: MemberForm.Problem]) { self.byField = byField }
}
