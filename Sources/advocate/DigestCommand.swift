import Advocate
import AdvocateCore
import ArgumentParser
import Foundation
import Metrics
import Prometheus

extension AdvocateCommand {
    /// `advocate digest …`
    struct Digest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send and inspect the weekly digest.",
            subcommands: [Send.self, Preview.self, Status.self]
        )
    }
}

/// The `--week` option shared by the digest commands.
struct WeekOption: ParsableArguments {
    @Option(help: "ISO week, e.g. 2026-W49 (default: the current week in the configured time zone).")
    var week: String?

    func validate() throws {
        guard let week else { return }
        let parsed: ISOWeek
        do { parsed = try ISOWeek(parsing: week) } catch { throw ValidationError("--week: \(error.description)") }
        guard LinkToken.canCarry(parsed) else {
            throw ValidationError(
                "--week: \(parsed) is outside the years digests can be sent for "
                    + "(\(LinkToken.years.lowerBound)–\(LinkToken.years.upperBound))")
        }
    }

    func resolve(_ context: AppContext) throws -> ISOWeek {
        try week.map { try ISOWeek(parsing: $0) } ?? context.currentWeek
    }
}

extension AdvocateCommand.Digest {
    /// `advocate digest send`
    struct Send: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send this week's digest to every active ambassador (safe to re-run; never double-mails).",
            discussion: """
                Exit codes: 0 everything sent (or nothing to send); 1 fatal error, nothing more could be done; \
                3 finished, but some deliveries failed, are in doubt or wait for a retry (see `digest status`); \
                75 another run holds the send lock.
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var weekOption: WeekOption
        @Option(help: "Attempt at most N deliveries in this run.") var limit: Int?
        @Flag(help: "Send again the messages whose delivery is in doubt.") var resendInDoubt = false
        @Option(help: "Write the messages as .eml files into DIR and record nothing.") var dryRun: String?
        @Option(help: "Send one ambassador's digest to this address only; records nothing.") var test: String?
        @Option(name: .customLong("as"), help: "With --test: whose digest to send (default: the first active one).")
        var asAmbassador: String?
        @Flag(help: "Print the summary as JSON.") var json = false
        @Option(
            help: ArgumentHelp(
                "Write this run's figures in Prometheus' text format to FILE (for node_exporter's textfile collector).",
                valueName: "file"))
        var metricsFile: String?

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            if let test, EmailAddress.normalized(test) == nil {
                throw ValidationError("--test: '\(test)' is not an e-mail address")
            }
            if dryRun != nil && test != nil { throw ValidationError("use either --dry-run or --test") }
        }

        func run() throws {
            var exitCode: Int32 = 0
            try reportingErrors {
                let context = try global.context()
                let week = try weekOption.resolve(context)
                let database = try context.openDatabase()
                if let directory = dryRun {
                    let preview = DigestPreview(
                        database: database, composer: try context.makeComposer(),
                        timeZone: context.config.timeZone, now: context.now)
                    let count = try preview.dryRun(week: week, directory: URL(fileURLWithPath: directory), limit: limit)
                    if json {
                        struct DryRun: Encodable { var week: String, directory: String, written: Int }
                        return try Output.json(DryRun(week: week.description, directory: directory, written: count))
                    }
                    print("Dry run: wrote \(count) digest(s) for \(week) into \(directory); nothing was recorded.")
                    return
                }
                if let test {
                    let preview = DigestPreview(
                        database: database, composer: try context.makeComposer(),
                        timeZone: context.config.timeZone, now: context.now)
                    let whose = try preview.sendTest(
                        week: week, to: EmailAddress.normalized(test)!, as: asAmbassador,
                        transport: try context.makeTransport())
                    if json {
                        struct TestSend: Encodable { var week: String, to: String, digestOf: String }
                        return try Output.json(TestSend(week: week.description, to: test, digestOf: whose))
                    }
                    print("Sent \(whose)'s digest for \(week) to \(test); nothing was recorded.")
                    return
                }
                let registry = PrometheusCollectorRegistry()
                if metricsFile != nil { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
                do {
                    let summary = try context.makeSender(database: database).run(
                        .init(week: week, limit: limit, resendInDoubt: resendInDoubt))
                    if json { try Output.json(summary) } else { print(summary.line) }
                    exitCode = summary.exitCode
                    // The mail went out whatever happens to the figures: a file that cannot be written is a warning.
                    if let metricsFile {
                        do {
                            try MetricsFile.write(registry, summary: summary, to: URL(fileURLWithPath: metricsFile))
                        } catch {
                            FileHandle.standardError.write(Data("warning: \(error)\n".utf8))
                        }
                    }
                } catch let error as StoreError {
                    if case .sendLocked = error {
                        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                        exitCode = SendSummary.lockedExitCode
                        return
                    }
                    throw error
                }
            }
            if exitCode != 0 { throw ExitCode(exitCode) }
        }
    }

    /// `advocate digest preview EMAIL --out DIR`
    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one ambassador's digest as .html, .txt and .eml files, without sending anything.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var weekOption: WeekOption
        @Argument(help: "The ambassador's e-mail address.") var email: String
        @Option(help: "Folder to write into.") var out: String

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let preview = DigestPreview(
                    database: try context.openDatabase(), composer: try context.makeComposer(),
                    timeZone: context.config.timeZone, now: context.now)
                for file in try preview.preview(
                    email: email, week: try weekOption.resolve(context), directory: URL(fileURLWithPath: out))
                {
                    print(file.path)
                }
            }
        }
    }

    /// `advocate digest status`
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the send ledger of a week: totals per status, and the deliveries of one status.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var weekOption: WeekOption
        @Option(help: "List the deliveries with this status (e.g. inDoubt, failed, retry).") var status: DeliveryStatus?
        @Flag(help: "Print as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let week = try weekOption.resolve(context)
                let database = try context.openDatabase()
                guard let digest = try database.digest(week: week) else {
                    throw StoreError.notFound("no digest was started for \(week)")
                }
                let counts = try database.deliveryCounts(digestID: digest.id)
                let listed = try status.map { try database.deliveries(digestID: digest.id, status: $0) } ?? []
                if json {
                    struct Report: Encodable {
                        var week: String
                        var totals: [String: Int]
                        var deliveries: [DeliveryListing]
                    }
                    return try Output.json(
                        Report(
                            week: week.description,
                            totals: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
                            deliveries: listed))
                }
                print("Digest \(week):")
                for status in DeliveryStatus.allCases {
                    if let n = counts[status] { print("  \(status.rawValue): \(n)") }
                }
                if status != nil {
                    Output.table(
                        headers: ["ID", "EMAIL", "ATTEMPTS", "MESSAGE-ID", "LAST ERROR"],
                        rows: listed.map {
                            [
                                "\($0.id)", $0.email ?? "(removed)", "\($0.attempts)", $0.messageID ?? "",
                                $0.lastError ?? "",
                            ]
                        })
                }
            }
        }
    }
}

extension DeliveryStatus: ExpressibleByArgument {}
