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
                    headers: ["EMAIL", "NAME", "LANG", "STATUS", "THEMES", "NETWORKS"],
                    rows: list.map {
                        [
                            $0.email, $0.name, $0.language.rawValue, $0.status.rawValue,
                            $0.themes.joined(separator: ";"), $0.networks.map(\.rawValue).joined(separator: ";"),
                        ]
                    })
                print("\(list.count) ambassador(s)")
            }
        }
    }

    /// `advocate ambassadors set EMAIL`
    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause or resume an ambassador's digest, or record their leaderboard consent.")

        enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "active, unsubscribed or pending.") var status: AmbassadorStatus?
        @Option(help: "on: may be named among the top sharers (plan.leaderboard = opt-in); off: never.")
        var leaderboard: Switch?

        func validate() throws {
            if status == nil && leaderboard == nil { throw ValidationError("give --status and/or --leaderboard") }
        }

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let database = try context.openDatabase()
                let address = EmailAddress.normalized(email) ?? email
                guard let ambassador = try database.ambassador(email: address), let id = ambassador.id else {
                    throw StoreError.notFound("no ambassador with e-mail \(address)")
                }
                if let status { try database.setStatus(status, ambassadorID: id, now: context.now()) }
                if let leaderboard {
                    try database.setLeaderboardOptIn(leaderboard == .on, ambassadorID: id, now: context.now())
                }
                print("Updated \(address).")
            }
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
                    throw StoreError.notFound("no ambassador with e-mail \(address)")
                }
                print("Removed \(address).")
            }
        }
    }
}

extension AmbassadorStatus: ExpressibleByArgument {}
