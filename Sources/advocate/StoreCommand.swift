import Advocate
import ArgumentParser
import Foundation

extension AdvocateCommand {
    /// `advocate store …`
    struct Store: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the database between SQLite and PostgreSQL.",
            subcommands: [Copy.self]
        )
    }
}

extension AdvocateCommand.Store {
    /// `advocate store copy --to …`
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every row of the configured database into a new, empty one and check the counts.",
            discussion: """
                The target is a postgres://user@host:port/database URL (password from ADVOCATE_DATABASE_PASSWORD) \
                or a SQLite file. It is created or migrated first, must hold no rows, and is written in one \
                transaction: a failure leaves it empty. Stop `advocate serve` and sends while copying; then point \
                databaseURL (or databasePath) at the target.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: "The database to copy into: a postgres:// URL or a SQLite file path.")
        var to: String

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let target: StoreLocation =
                    PostgresLocation.isURL(to)
                    ? .postgres(try context.location(to, field: "--to"))
                    : .sqlite(
                        URL(
                            fileURLWithPath: to,
                            relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)))
                let source = try context.storeLocation
                guard source.description != target.description else {
                    throw ValidationError("--to names the configured database itself")
                }
                let copied = try context.openDatabase().copy(to: try AppDatabase.open(target))
                for table in copied { print("\(table.table): \(table.rows)") }
                print(
                    "Copied \(copied.reduce(0) { $0 + $1.rows }) rows in \(copied.count) tables from \(source) "
                        + "to \(target); the counts match.")
            }
        }
    }
}
