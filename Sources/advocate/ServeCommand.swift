import Advocate
import ArgumentParser
import Foundation
import Logging

extension AdvocateCommand {
    /// `advocate serve`
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the click and unsubscribe server (share links, post links, one-click unsubscribe).",
            discussion: """
                Listens on server.host:server.port (port 0 picks a free one and prints it). SIGTERM or SIGINT \
                drains in-flight requests and writes every pending click before exiting. Set LOG_LEVEL=warning to \
                silence the per-request log (which never holds tokens, addresses or user agents).
                """
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reportingErrorsAsync {
                let context = try global.context()
                let database = try context.openDatabase()
                var logger = Logger(label: "advocate")
                logger.logLevel =
                    ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
                let host = context.config.server.host
                let group = try buildServer(context: context, database: database, logger: logger) { port in
                    FileHandle.standardOutput.write(Data("advocate serve: listening on http://\(host):\(port)\n".utf8))
                }
                try await group.run()
            }
        }
    }
}

/// The async twin of ``reportingErrors(exitCode:_:)``.
func reportingErrorsAsync(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
