import Advocate
import AdvocateCore
import ArgumentParser
import Foundation

extension AdvocateCommand {
    /// `advocate ambassadors …`
    struct Ambassadors: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the ambassadors who receive the digest.",
            subcommands: [Import.self, Add.self, List.self, Set.self, Remove.self]
        )
    }
}

extension AdvocateCommand.Ambassadors {
    /// `advocate ambassadors import FILE.csv`
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import ambassadors from CSV (email,name,language,themes,networks); updates known e-mails.",
            discussion: """
                Themes and networks are separated by ';'. If any row is invalid nothing is imported and every \
                problem is listed with its line number, unless --skip-invalid is given.
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "CSV file with a header row.") var file: String
        @Flag(help: "Import the valid rows and report the invalid ones.") var skipInvalid = false
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let importer = Importer(database: try context.openDatabase(), rules: context.importRules())
                let outcome = try importer.importAmbassadors(file: file, skipInvalid: skipInvalid)
                if json { return try Output.json(outcome) }
                print("Imported \(file): \(outcome.count.created) added, \(outcome.count.updated) updated.")
                let erased = outcome.count.erased
                if !erased.isEmpty {
                    print(
                        "  left out \(erased.count) who asked to be erased (never added back by an import): "
                            + erased.joined(separator: ", "))
                }
                let declined = outcome.count.declined
                if !declined.isEmpty {
                    print(
                        "  left out \(declined.count) who asked never to be invited (ambassadors add enrols someone "
                            + "who agreed after all): " + declined.joined(separator: ", "))
                }
                for problem in outcome.skipped { print("  skipped \(file) \(problem)") }
            }
        }
    }

    /// `advocate ambassadors add EMAIL`
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add one ambassador.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "Full name.") var name = ""
        @Option(help: "Digest language: nl or en (default from config).") var language: String?
        @Option(help: "Themes, separated by ';' or ','.") var themes = ""
        @Option(help: "Networks, separated by ';' or ',' (default from config).") var networks = ""
        @Flag(help: "Print the new ambassador as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let values = [
                    "email": email, "name": name, "language": language ?? "",
                    "themes": themes.replacingOccurrences(of: ",", with: ";"),
                    "networks": networks.replacingOccurrences(of: ",", with: ";"),
                ]
                let ambassador: Ambassador
                switch AmbassadorImport.ambassador(values, line: 0, rules: context.importRules()) {
                case .success(let value): ambassador = value
                case .failure(let problem): throw ValidationError("--\(problem.field ?? "email"): \(problem.message)")
                }
                let saved = try context.openDatabase().addAmbassador(ambassador, now: context.now())
                if json { return try Output.json(saved) }
                print(
                    "Added \(saved.email) (\(saved.language.rawValue); \(saved.networks.map(\.rawValue).joined(separator: ", ")))."
                )
            }
        }
    }

    /// `advocate ambassadors list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List ambassadors.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this status: active, unsubscribed or pending.") var status: AmbassadorStatus?
        @Flag(help: "Print as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let list = try global.context().openDatabase().ambassadors(status: status)
                if json { return try Output.json(list) }
                Output.table(
                    headers: ["EMAIL", "NAME", "LANG", "STATUS", "THEMES", "NETWORKS", "FREQUENCY", "PAUSED UNTIL"],
                    rows: list.map {
                        [
                            $0.email, $0.name, $0.language.rawValue, $0.status.rawValue,
                            $0.themes.joined(separator: ";"), $0.networks.map(\.rawValue).joined(separator: ";"),
                            $0.schedule.frequency.rawValue, $0.schedule.pausedUntil?.description ?? "",
                        ]
                    })
                print("\(list.count) ambassador(s)")
            }
        }
    }

    /// `advocate ambassadors set EMAIL`
    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change what an ambassador receives: the same choices their preferences page offers.",
            discussion: """
                Only the options given change. Lists are separated by ';'; an empty list clears the themes \
                (everything). --pause-until none ends a pause.
                """)

        enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "active, unsubscribed or pending.") var status: AmbassadorStatus?
        @Option(help: "on: may be named among the top sharers (plan.leaderboard = opt-in); off: never.")
        var leaderboard: Switch?
        @Option(help: "Full name.") var name: String?
        @Option(help: "Digest language: nl or en.") var language: String?
        @Option(help: "Themes, separated by ';' (from plan.themes; empty for everything).") var themes: String?
        @Option(help: "Networks, separated by ';'.") var networks: String?
        @Option(help: "weekly or biweekly (every two weeks, counted from the current week).") var frequency: String?
        @Option(help: "No digest for weeks starting on or before this day (YYYY-MM-DD), or 'none'.")
        var pauseUntil: String?

        func validate() throws {
            if [
                status == nil, leaderboard == nil, name == nil, language == nil, themes == nil, networks == nil,
                frequency == nil, pauseUntil == nil,
            ].allSatisfy({ $0 }) {
                throw ValidationError("give at least one of the options to change")
            }
        }

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let database = try context.openDatabase()
                let address = EmailAddress.normalized(email) ?? email
                guard let ambassador = try database.ambassador(email: address), let id = ambassador.id else {
                    throw StoreError.notFound("no ambassador with e-mail \(address)")
                }
                let now = context.now()
                let today = CalendarDay(now, in: context.config.timeZone)
                var form = MemberForm(
                    email: ambassador.email, name: name ?? ambassador.name,
                    language: language?.lowercased() ?? ambassador.language.rawValue, themes: ambassador.themes,
                    networks: ambassador.networks.map(\.rawValue),
                    frequency: frequency ?? ambassador.schedule.frequency.rawValue,
                    pausedUntil: ambassador.schedule.pausedUntil.flatMap { $0 < today ? nil : $0 }?.description ?? "",
                    leaderboard: leaderboard.map { $0 == .on } ?? ambassador.leaderboardOptIn)
                if let themes {
                    form.themes = Self.list(themes).map { $0.lowercased() }
                } else if !context.config.plan.themes.isEmpty {
                    // Themes the plan no longer has are dropped, rather than blocking an unrelated change.
                    form.themes = form.themes.filter(context.config.plan.themes.contains)
                }
                if let networks { form.networks = Self.list(networks).map { $0.lowercased() } }
                if let pauseUntil { form.pausedUntil = pauseUntil == "none" ? "" : pauseUntil }
                var rules = MemberForm.Rules(
                    allowedDomains: [], themes: context.config.plan.themes,
                    today: today)
                rules.requireName = false
                rules.anyTheme = context.config.plan.themes.isEmpty
                switch form.validate(rules, checkEmail: false) {
                case .failure(let problems):
                    let fields = problems.byField.sorted { $0.key < $1.key }.map {
                        "--\(Self.option($0.key)) \(Self.describe($0.value))"
                    }
                    throw ValidationError("invalid values: \(fields.joined(separator: "; "))")
                case .success(let choices):
                    try database.updatePreferences(
                        ambassadorID: id, choices: choices, status: status, week: context.currentWeek, now: now)
                }
                print("Updated \(address).")
            }
        }

        /// The option that sets a form's field (the form names it as the preferences page does).
        static func option(_ field: String) -> String { field == "pausedUntil" ? "pause-until" : field }

        /// What is wrong with an option's value, for the operator.
        static func describe(_ problem: MemberForm.Problem) -> String {
            switch problem {
            case .missing: "is missing"
            case .tooLong: "is too long"
            case .controlCharacters: "contains control characters"
            case .invalidEmail: "is not an e-mail address"
            case .domainNotAllowed: "is not of an allowed domain"
            case .unknownLanguage: "is not a language code (use: \(Language.codes))"
            case .unknownTheme: "names a theme that is not in plan.themes"
            case .unknownNetwork: "names an unknown network (use: \(Network.codes))"
            case .noNetwork: "must name one network at least"
            case .invalidDay: "must be a day like 2026-12-31, or none"
            case .dayInPast: "is a day that has passed"
            case .dayTooFar: "is more than a year ahead"
            case .unknownFrequency: "must be weekly or biweekly"
            }
        }

        static func list(_ raw: String) -> [String] {
            raw.split(whereSeparator: { $0 == ";" || $0 == "," }).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
    }

    /// `advocate ambassadors remove EMAIL`
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an ambassador and their personal data (anonymous counts are kept).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail address.") var email: String

        func run() throws {
            try reportingErrors {
                let address = EmailAddress.normalized(email) ?? email
                guard try global.context().openDatabase().removeAmbassador(email: address) else {
                    throw StoreError.notFound("no ambassador, sign-up or invitation with e-mail \(address)")
                }
                print("Removed \(address).")
            }
        }
    }
}

extension AmbassadorStatus: ExpressibleByArgument {}
