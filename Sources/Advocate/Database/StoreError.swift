import GRDB

/// A failure of the store, worded for the operator instead of as a raw SQLite message.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case unavailable(path: String, reason: String)
    case notFound(String)
    case conflict(String)
    /// SQLite stayed busy or locked past the busy timeout: another process holds the database.
    case busy(String)
    /// Another `digest send` holds the send lock of this database (exit code 75, see ``SendSummary``).
    case sendLocked(String)
    case failed(String)
    /// The database was written by a newer Advocate.
    case newerSchema(String)
    /// The configured location is not a valid database address.
    case invalidLocation(String)

    init(_ error: DatabaseError) {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self = .busy("the database is busy (another advocate process holds it); try again")
        case .SQLITE_CONSTRAINT:
            self = .conflict("the change breaks a rule of the database (\(error.message ?? "constraint"))")
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            self = .unavailable(path: "database", reason: error.message ?? "cannot write")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            self = .unavailable(path: "database", reason: "the file is not a valid Advocate database")
        default:
            self = .failed(error.message ?? "\(error.resultCode)")
        }
    }

    public var description: String {
        switch self {
        case .unavailable(let path, let reason): "cannot open the database \(path): \(reason)"
        case .notFound(let what): what
        case .conflict(let what): what
        case .busy(let what): what
        case .sendLocked(let what): what
        case .failed(let what): "database error: \(what)"
        case .newerSchema(let what): what
        case .invalidLocation(let what): what
        }
    }
}

/// Thrown at hand-over for a delivery or invitation that is no longer due (settled as `skipped` or `failed`, or
/// erased, or its person unsubscribed or was removed, while its message was being sent): the end of the message must
/// not be sent, and there is no outcome to record. The send pool withdraws the message (``SendJob/Reach/withdrawn``).
public struct NoLongerDue: Error {
    public var id: Int64
}
