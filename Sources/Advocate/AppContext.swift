import AdvocateCore
import Foundation

/// The composition root: configuration, secrets, the store and the mailer are built here and nowhere else.
/// The CLI and the tests both start from an `AppContext`.
public struct AppContext: Sendable {
    /// The loaded configuration.
    public var config: AdvocateConfig
    /// Secrets from the environment and the secrets file.
    public var secrets: Secrets
    /// The clock; tests pass a fixed one.
    public var now: @Sendable () -> Date

    /// Loads the configuration at `configPath`.
    public static func load(
        configPath: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> AppContext {
        let (config, secrets) = try ConfigLoader.load(path: configPath, environment: environment)
        return AppContext(config: config, secrets: secrets, now: now)
    }

    /// Creates a context from parts.
    public init(config: AdvocateConfig, secrets: Secrets, now: @escaping @Sendable () -> Date) {
        self.config = config
        self.secrets = secrets
        self.now = now
    }

    /// Opens the configured database, creating and migrating it when needed.
    public func openDatabase() throws -> AppDatabase {
        try AppDatabase.open(storeLocation)
    }

    /// Where the configured database lives: `databaseURL` when set, else the SQLite file `databasePath`.
    public var storeLocation: StoreLocation {
        get throws {
            guard let url = config.databaseURL else { return .sqlite(config.resolve(config.databasePath)) }
            return .postgres(try location(url, field: "databaseURL"))
        }
    }

    /// A PostgreSQL URL with the configured password.
    public func location(_ url: String, field: String) throws -> PostgresLocation {
        try PostgresLocation(parsing: url, password: secrets.databasePassword, field: field)
    }

    /// The ISO week holding the current moment in the configured time zone.
    public var currentWeek: ISOWeek { ISOWeek(containing: now(), in: config.timeZone) }

    /// The rules imports and `add` commands check values against.
    public func importRules(defaultWeek: ISOWeek? = nil) -> ImportRules {
        ImportRules(
            defaultLanguage: config.defaultLanguage, defaultNetworks: config.defaultNetworks,
            knownThemes: config.plan.themes, defaultWeek: defaultWeek ?? currentWeek, now: now())
    }
}
