import Advocate
import AdvocateCore
import ArgumentParser
import Foundation

extension AdvocateCommand {
    /// `advocate report`
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shares, visits and sharers, human and raw side by side, with progress towards the plan's goals.",
            discussion: """
                Columns: key; shares (an ambassador sharing an item on a network, once, human clicks only); \
                shares_raw (every hit on share buttons, crawlers and scanners included); visits (human hits on links \
                in posts); visits_raw (every hit); sharers (ambassadors with a human share); mailed (ambassadors the \
                digest was delivered to, for the total and per week); share_rate (sharers / mailed); \
                visits_per_share (visits / shares); confirmed_shares (shares the network's preview fetch or a reader \
                confirmed); readers (unique readers per share per day); earned_value_estimate (readers × \
                clicks.costPerClick of their network: what buying those visits as ads would cost, an estimate).
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

        @OptionGroup var global: GlobalOptions
        @Option(help: "Only links mailed in this ISO week, e.g. 2026-W49.") var week: String?
        @Option(help: "Clicks from this date on (YYYY-MM-DD, configured time zone).") var from: String?
        @Option(help: "Clicks up to and including this date (YYYY-MM-DD).") var to: String?
        @Option(help: "Group by item, network, ambassador, theme or week.") var by: ReportGrouping = .item
        @Option(help: "table, csv or json.") var format: Format = .table

        func validate() throws {
            if let week {
                do { _ = try ISOWeek(parsing: week) } catch { throw ValidationError("--week: \(error.description)") }
            }
            if week != nil && (from != nil || to != nil) { throw ValidationError("use either --week or --from/--to") }
            for (name, value) in [("--from", from), ("--to", to)] {
                if let value, Self.day(value, in: .gmt) == nil {
                    throw ValidationError("\(name): '\(value)' is not a date like 2026-12-01")
                }
            }
        }

        static func day(_ text: String, in zone: TimeZone) -> Date? {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = zone
            formatter.dateFormat = "yyyy-MM-dd"
            return formatter.date(from: text)
        }

        /// The start of the day after `text`: the end of an inclusive `--to` day, 23 or 25 hours long on a day the
        /// clocks change.
        static func dayAfter(_ text: String, in zone: TimeZone) -> Date? {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            // The start of the next calendar day, also where midnight does not exist (a clock change at 00:00).
            return day(text, in: zone).flatMap { calendar.date(byAdding: .day, value: 1, to: $0) }.map {
                calendar.startOfDay(for: $0)
            }
        }

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let zone = context.config.timeZone
                let filter = ReportFilter(
                    week: try week.map { try ISOWeek(parsing: $0) }, from: from.flatMap { Self.day($0, in: zone) },
                    to: to.flatMap { Self.dayAfter($0, in: zone) })
                let database = try context.openDatabase()
                let (rows, total) = try database.report(
                    filter, by: by, costPerClick: context.config.clicks.costPerClick)
                let goals = try database.progress(of: context.config.plan.goals, timeZone: context.config.timeZone)
                switch format {
                case .json:
                    struct Document: Encodable {
                        var by: ReportGrouping
                        var filter: ReportFilter
                        var rows: [ReportRow]
                        var total: ReportRow
                        var goals: [GoalProgress]
                    }
                    try Output.json(Document(by: by, filter: filter, rows: rows, total: total, goals: goals))
                case .csv:
                    print(ReportFormatting.csvHeader)
                    for row in rows + [total] { print(ReportFormatting.csv(row)) }
                case .table:
                    Output.table(
                        headers: [by.rawValue.uppercased()] + ReportFormatting.tableHeaders
                            + ["VALUE (EST., \(context.config.clicks.currency))"],
                        rows: (rows + [total]).map(ReportFormatting.cells), rightAligned: true)
                    for goal in goals { print(ReportFormatting.goalLine(goal)) }
                }
            }
        }
    }
}

extension ReportGrouping: ExpressibleByArgument {}

/// Turning report rows into text.
enum ReportFormatting {
    static let tableHeaders = [
        "SHARES", "RAW", "VISITS", "RAW", "SHARERS", "MAILED", "SHARE RATE", "VISITS/SHARE", "CONFIRMED", "READERS",
    ]
    static let csvHeader =
        "key,shares,shares_raw,visits,visits_raw,sharers,mailed,share_rate,visits_per_share,confirmed_shares,readers,"
        + "earned_value_estimate"

    static func cells(_ row: ReportRow) -> [String] {
        [
            row.key, "\(row.shares)", "\(row.sharesRaw)", "\(row.visits)", "\(row.visitsRaw)", "\(row.sharers)",
            row.mailed.map(String.init) ?? "", row.shareRate.map { String(format: "%.1f%%", $0 * 100) } ?? "",
            row.visitsPerShare.map { String(format: "%.2f", $0) } ?? "", "\(row.confirmedShares)", "\(row.readers)",
            String(format: "%.2f", row.earnedValue),
        ]
    }

    static func csv(_ row: ReportRow) -> String {
        // A key is a title, theme or address from outside: one a spreadsheet would take for a formula (=, +, -, @,
        // tab or CR first) is kept as text with a leading apostrophe. The "-" of "no network" is no formula.
        var key = row.key
        if key != "-", let first = key.first, "=+-@\t\r".contains(first) { key = "'" + key }
        if key.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            key = "\"\(key.replacingOccurrences(of: "\"", with: "\"\""))\""
        }
        return [
            key, "\(row.shares)", "\(row.sharesRaw)", "\(row.visits)", "\(row.visitsRaw)", "\(row.sharers)",
            row.mailed.map(String.init) ?? "", row.shareRate.map { String(format: "%.4f", $0) } ?? "",
            row.visitsPerShare.map { String(format: "%.4f", $0) } ?? "", "\(row.confirmedShares)", "\(row.readers)",
            String(format: "%.2f", row.earnedValue),
        ].joined(separator: ",")
    }

    static func goalLine(_ goal: GoalProgress) -> String {
        func part(_ name: String, _ actual: Int, _ target: Int?) -> String? {
            target.map { "\(name) \(actual)/\($0) (\(Int((Double(actual) / Double(max($0, 1)) * 100).rounded()))%)" }
        }
        let parts = [
            part("shares", goal.shares, goal.sharesGoal), part("visits", goal.visits, goal.visitsGoal),
            part("active ambassadors", goal.activeAmbassadors, goal.activeAmbassadorsGoal),
        ].compactMap { $0 }
        return "goal \(goal.period)\(goal.theme.map { " (\($0))" } ?? ""): " + parts.joined(separator: ", ")
    }
}
