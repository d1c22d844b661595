import Advocate
import ArgumentParser
import Foundation

/// The `advocate` command tree.
@main
struct AdvocateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advocate",
        abstract: "Employee-advocacy mailer: weekly ready-to-share digests with tracked, personal share links.",
        discussion: """
            Typical week: import ambassadors and content, then `advocate digest send` from cron.
            Every command reads ./config.json unless --config or ADVOCATE_CONFIG names another file.
            """,
        subcommands: [
            Init.self, Ambassadors.self, Invite.self, Content.self, Digest.self, Report.self, Serve.self, Editors.self,
            DKIM.self, Store.self,
        ]
    )
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $ADVOCATE_CONFIG or ./config.json).")
    var config: String?

    /// Loads the configuration and builds the application context.
    func context() throws -> AppContext {
        let environment = ProcessInfo.processInfo.environment
        return try AppContext.load(configPath: ConfigLoader.path(option: config, environment: environment))
    }
}

/// Runs a command body, printing any failure as one line on standard error and exiting non-zero; users never see
/// a Swift error dump or a raw SQLite message.
func reportingErrors(exitCode: Int32 = 1, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(exitCode)
    }
}
