import Advocate
import AdvocateCore
import ArgumentParser
import Foundation

extension AdvocateCommand {
    /// `advocate invite FILE.csv | EMAIL…`
    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite colleagues: a personal mail with a join link that already knows their address.",
            discussion: """
                Give a CSV file (columns email, and optionally name and language) or addresses. Nobody is invited \
                twice within membership.invitationCooldownDays, and people who unsubscribed or were removed are \
                never invited, unless --force; active ambassadors, and people who asked through an invitation's \
                "never invite me again" link (its List-Unsubscribe), are never invited. Safe to kill and run again: \
                the invitations are a ledger like the digest's. Exit codes as for `digest send` (0, 1, 3, 75).
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "A CSV file, or e-mail addresses.") var targets: [String] = []
        @Flag(help: "Invite even people invited recently, who unsubscribed or who were removed.") var force = false
        @Option(help: "Language for addresses given on the command line (default from config).") var language: String?
        @Flag(help: "List the invitations and their state instead of sending.") var status = false
        @Flag(help: "Print as JSON.") var json = false

        func validate() throws {
            if !status && targets.isEmpty { throw ValidationError("give a CSV file or e-mail addresses, or --status") }
            if let language, Language(rawValue: language) == nil {
                throw ValidationError("--language: unknown language '\(language)' (use: \(Language.codes))")
            }
            for target in targets where !target.hasSuffix(".csv") && EmailAddress.normalized(target) == nil {
                throw ValidationError("'\(target)' is neither a .csv file nor an e-mail address")
            }
        }

        func run() throws {
            var exitCode: Int32 = 0
            try reportingErrors {
                let context = try global.context()
                let database = try context.openDatabase()
                if status { return try printStatus(database) }
                let requests = try self.requests(context)
                let queued = try database.queueInvitations(
                    requests, force: force, cooldownDays: context.config.membership.invitationCooldownDays,
                    now: context.now())
                do {
                    let summary = try context.makeInvitationSender(database: database).run()
                    exitCode = summary.exitCode
                    if json {
                        struct Report: Encodable {
                            var queued: InvitationQueueResult
                            var run: InvitationSummary
                        }
                        return try Output.json(Report(queued: queued, run: summary))
                    }
                    print(Self.describe(queued, forced: force))
                    print(
                        "Sent \(summary.sent) invitation(s) in this run (\(summary.attempts) attempts"
                            + (summary.unreachable > 0 ? ", \(summary.unreachable) not sent: relay unreachable" : "")
                            + "); ledger: "
                            + summary.totals.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                            .joined(separator: ", "))
                } catch let error as StoreError {
                    guard case .sendLocked = error else { throw error }
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    exitCode = SendSummary.lockedExitCode
                }
            }
            if exitCode != 0 { throw ExitCode(exitCode) }
        }

        /// The people named on the command line or in the CSV file.
        private func requests(_ context: AppContext) throws -> [InvitationRequest] {
            let fallback = language.flatMap(Language.init(rawValue:)) ?? context.config.defaultLanguage
            var requests: [InvitationRequest] = []
            for target in targets {
                guard target.hasSuffix(".csv") else {
                    requests.append(
                        InvitationRequest(email: EmailAddress.normalized(target)!, name: "", language: fallback))
                    continue
                }
                let path = context.config.resolve(target).path
                guard
                    let data = FileManager.default.contents(atPath: target)
                        ?? FileManager.default.contents(atPath: path),
                    let text = String(data: data, encoding: .utf8)
                else { throw ImportError.unreadable(file: target, reason: "cannot read the file as UTF-8 text") }
                let validation: ImportValidation<Ambassador>
                do { validation = try AmbassadorImport.validate(csv: text, rules: context.importRules()) } catch {
                    throw ImportError.unreadable(file: target, reason: error.description)
                }
                if !validation.problems.isEmpty {
                    throw ImportError.invalidInvitations(file: target, problems: validation.problems)
                }
                requests += validation.rows.map {
                    InvitationRequest(email: $0.value.email, name: $0.value.name, language: $0.value.language)
                }
            }
            return requests
        }

        private func printStatus(_ database: AppDatabase) throws {
            let list = try database.invitations()
            if json { return try Output.json(list) }
            Output.table(
                headers: ["EMAIL", "NAME", "STATUS", "ATTEMPTS", "INVITED", "JOINED", "LAST ERROR"],
                rows: list.map {
                    [
                        $0.email, $0.name, $0.status.rawValue, "\($0.attempts)",
                        $0.sentAt.map { ISO8601DateFormatter().string(from: $0) } ?? "",
                        $0.acceptedAt.map { ISO8601DateFormatter().string(from: $0) } ?? "", $0.lastError ?? "",
                    ]
                })
            print("\(list.count) invitation(s)")
        }

        /// What was queued and who was left out, and why; without `forced`, a hint when `--force` would invite some.
        static func describe(_ result: InvitationQueueResult, forced: Bool) -> String {
            var parts = ["Queued \(result.queued.count) invitation(s)"]
            let skipped = [
                (result.recentlyInvited, "invited recently"), (result.unsubscribed, "unsubscribed"),
                (result.removed, "removed"), (result.alreadyMembers, "already ambassadors"),
                (result.declined, "asked not to be invited again"),
            ].filter { !$0.0.isEmpty }
            if !skipped.isEmpty {
                parts.append(
                    "skipped "
                        + skipped.map { "\($0.0.count) \($0.1) (\($0.0.joined(separator: ", ")))" }
                        .joined(separator: "; ")
                        + (result.forceWouldInvite && !forced
                            ? "; --force invites people skipped for the first three reasons" : ""))
            }
            return parts.joined(separator: "; ") + "."
        }
    }
}
