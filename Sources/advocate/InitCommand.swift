import Advocate
import ArgumentParser

extension AdvocateCommand {
    /// `advocate init`
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the database and bring its schema up to date (safe to run again).",
            discussion: "Also creates the secrets file named by `secretsFile` with a fresh link key when it is missing."
        )

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                if let created = try Secrets.createFileIfMissing(config: context.config) {
                    print("Created secrets file \(created.path) (keep it out of git).")
                }
                let database = try context.openDatabase()
                let migrations = try database.appliedMigrations()
                print(
                    "Database \(try context.storeLocation) is ready "
                        + "(\(migrations.count) migrations: \(migrations.joined(separator: ", "))).")
            }
        }
    }
}
