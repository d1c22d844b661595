import Advocate
import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus

extension AdvocateCommand {
    /// `advocate serve`
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the click and unsubscribe server (share links, post links, one-click unsubscribe).",
            discussion: """
                Listens on server.host:server.port (port 0 picks a free one and prints it). SIGTERM or SIGINT \
                drains in-flight requests and writes every pending click before exiting. Set LOG_LEVEL=warning to \
                silence the per-request log (which never holds tokens, addresses or user agents), LOG_FORMAT=json \
                for one JSON object per line. GET /metrics serves Prometheus figures for the admin token.
                """
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reportingErrorsAsync {
                let context = try global.context()
                let database = try context.openDatabase()
                let logger = makeLogger()
                let registry = PrometheusCollectorRegistry()
                MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
                let host = context.config.server.host
                let group = try buildServer(context: context, database: database, logger: logger, metrics: registry) {
                    port in
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

/// The process's logger: LOG_LEVEL (default info) and LOG_FORMAT (`json` for JSON lines, else swift-log's text).
func makeLogger() -> Logger {
    let environment = ProcessInfo.processInfo.environment
    let format: LogLineHandler.Format = environment["LOG_FORMAT"] == "json" ? .json : .text
    LoggingSystem.bootstrap { LogLineHandler(label: $0, format: format) }
    var logger = Logger(label: "advocate")
    logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}
