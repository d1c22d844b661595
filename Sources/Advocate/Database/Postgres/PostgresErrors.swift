import PostgresNIO

/// PostgreSQL's failures worded for the operator, as ``StoreError``s.
enum PostgresErrors {
    /// Runs `body`, turning PostgresNIO's errors into ``StoreError``s.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as PSQLError { throw storeError(error) }
    }

    /// `error` as a ``StoreError`` when it is PostgresNIO's.
    static func converted(_ error: any Error) -> any Error {
        (error as? PSQLError).map { storeError($0) } ?? error
    }

    static func storeError(_ error: PSQLError, location: PostgresLocation? = nil) -> StoreError {
        let place = location?.description ?? "PostgreSQL"
        if let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "error \(state)"
            switch state {
            case "28P01", "28000":
                return .unavailable(path: place, reason: "the server refused the login: \(message)")
            case "3D000": return .unavailable(path: place, reason: message)
            case "40001", "40P01", "55P03": return .busy("the database is busy (\(message)); try again")
            case let code where code.hasPrefix("23") || code.hasPrefix("22"):
                return .conflict("the change breaks a rule of the database (\(message))")
            case let code where code.hasPrefix("08") || code.hasPrefix("57"):
                return .unavailable(path: place, reason: message)
            default: return .failed(message)
            }
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            let reason = error.underlying.map { "\($0)" } ?? "the connection failed"
            return .unavailable(path: place, reason: "cannot connect (\(reason))")
        case .authMechanismRequiresPassword:
            return .unavailable(
                path: place, reason: "the server asks for a password; set ADVOCATE_DATABASE_PASSWORD")
        default:
            return .failed("\(error.code)")
        }
    }
}
