import Foundation

/// A PostgreSQL database named by a `postgres://user@host:port/database` URL. The password never comes from the
/// URL (config.json and command lines are not secret) but from `ADVOCATE_DATABASE_PASSWORD`.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected.
    public enum TLSMode: String, Sendable {
        /// Plain TCP or a Unix socket: the default only for loopback addresses and sockets.
        case disable
        /// TLS with the server's certificate checked against the system's trust store.
        case require
    }

    public var host: String
    public var port: Int
    /// A folder holding the server's Unix socket, instead of host and port.
    public var socketDirectory: String?
    public var user: String
    public var database: String
    public var password: String?
    public var tls: TLSMode

    /// The URL without the password, for messages and logs.
    public var description: String {
        socketDirectory.map { "postgres://\(user)@/\(database)?host=\($0)" }
            ?? "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// `text` with any user and password part replaced, for messages.
    public static func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: #"//[^/@]*@"#, with: "//…@", options: .regularExpression)
    }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses `text`; `field` names where it came from in errors.
    public init(parsing text: String, password: String?, field: String) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw StoreError.invalidLocation(
                "\(field): expected postgres://user@host:port/database, got \(Self.redacted(text))")
        }
        if components.password != nil {
            throw StoreError.invalidLocation(
                "\(field): the URL holds a password; put it in ADVOCATE_DATABASE_PASSWORD (environment or secrets "
                    + "file) instead, so it stays out of config files and process lists")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError.invalidLocation("\(field): the URL names no user (postgres://USER@host/database)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError.invalidLocation("\(field): the URL names no database (postgres://user@host/DATABASE)")
        }
        var socketDirectory: String?
        let host = components.host ?? ""
        // TLS unless the server is on this machine: a password must not cross a network in the clear.
        var tls = ["127.0.0.1", "::1", "localhost", ""].contains(host.lowercased()) ? TLSMode.disable : .require
        for item in components.queryItems ?? [] {
            switch item.name {
            case "host": socketDirectory = item.value
            case "sslmode":
                switch item.value {
                case "disable": tls = .disable
                case "require", "verify-full": tls = .require
                default:
                    throw StoreError.invalidLocation(
                        "\(field): sslmode must be disable or require, got \(item.value ?? "")")
                }
            default:
                throw StoreError.invalidLocation("\(field): unknown URL parameter '\(item.name)' (host, sslmode)")
            }
        }
        if socketDirectory == nil, host.isEmpty {
            throw StoreError.invalidLocation("\(field): the URL names no host (postgres://user@HOST/database)")
        }
        if let socketDirectory, !socketDirectory.hasPrefix("/") {
            throw StoreError.invalidLocation("\(field): host= must be the absolute folder of the server's socket")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.socketDirectory = socketDirectory
        self.user = user
        self.database = database
        self.password = password
        self.tls = tls
    }
}
