import AdvocateCore
import Foundation

/// A named editor account.
public struct Editor: Sendable, Codable, Hashable {
    /// The store's identifier.
    public var id: Int64
    /// The sign-in name (unique, case-insensitive).
    public var name: String
    /// When the account was made.
    public var createdAt: Date
}

extension AppDatabase {
    /// Adds an editor with a bcrypt hash; fails when the name is taken.
    public func addEditor(name: String, passwordHash: String, now: Date) throws -> Editor {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM editor WHERE name = ?", arguments: [name]) ?? false {
                throw StoreError.conflict("an editor named '\(name)' already exists")
            }
            let id = try Int64.fetchOne(
                db, sql: "INSERT INTO editor (name, passwordHash, createdAt) VALUES (?, ?, ?) RETURNING id",
                arguments: [name, passwordHash, now])!
            return Editor(id: id, name: name, createdAt: now)
        }
    }

    /// Replaces an editor's password and ends their sessions.
    public func setEditorPassword(name: String, passwordHash: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE editor SET passwordHash = ? WHERE name = ?", arguments: [passwordHash, name])
            guard db.changesCount > 0 else { throw StoreError.notFound("no editor named '\(name)'") }
            try db.execute(
                sql: "DELETE FROM editorSession WHERE editorId = (SELECT id FROM editor WHERE name = ?)",
                arguments: [name])
        }
    }

    /// Removes an editor and their sessions (their recorded changes stay, under their name).
    public func removeEditor(name: String) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM editor WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { throw StoreError.notFound("no editor named '\(name)'") }
        }
    }

    /// Every editor by name.
    public func editors() throws -> [Editor] {
        try read { db in
            try SQLRow.fetchAll(db, sql: "SELECT id, name, createdAt FROM editor ORDER BY name").map {
                Editor(id: $0["id"], name: $0["name"], createdAt: $0["createdAt"])
            }
        }
    }

    /// The account and its hash, for signing in.
    public func editorCredentials(name: String) throws -> (editor: Editor, passwordHash: String)? {
        try read { db in
            try SQLRow.fetchOne(db, sql: "SELECT * FROM editor WHERE name = ?", arguments: [name]).map {
                (Editor(id: $0["id"], name: $0["name"], createdAt: $0["createdAt"]), $0["passwordHash"])
            }
        }
    }

    /// Starts a session under the hash of its cookie value.
    public func startEditorSession(tokenHash: String, editorID: Int64, now: Date) throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO editorSession (tokenHash, editorId, createdAt, lastSeenAt) VALUES (?, ?, ?, ?)",
                arguments: [tokenHash, editorID, now, now])
        }
    }

    /// The editor of a live session, which counts as seen now; an expired or idle session is ended instead. Read
    /// first: only a session to end, or one last seen more than a minute ago, takes a write (a cookie of no session,
    /// anyone's to send, never waits for the store's write lock nor holds it).
    public func editorSession(tokenHash: String, now: Date, maxAge: TimeInterval, maxIdle: TimeInterval) throws
        -> Editor?
    {
        @Sendable func live(_ session: EditorSessionRow) -> Bool {
            now.timeIntervalSince(session.started) < maxAge && now.timeIntervalSince(session.seen) < maxIdle
        }
        // Live and seen within the minute: nothing to write.
        @Sendable func current(_ session: EditorSessionRow) -> Bool {
            live(session) && now.timeIntervalSince(session.seen) <= 60
        }
        guard let session = try read({ db in try Self.editorSession(db, tokenHash: tokenHash) }) else { return nil }
        if current(session) { return session.editor }
        return try write { db in
            guard let session = try Self.editorSession(db, tokenHash: tokenHash) else { return nil }
            guard live(session) else {
                try db.execute(sql: "DELETE FROM editorSession WHERE tokenHash = ?", arguments: [tokenHash])
                return nil
            }
            if !current(session) {
                try db.execute(
                    sql: "UPDATE editorSession SET lastSeenAt = ? WHERE tokenHash = ?", arguments: [now, tokenHash])
            }
            return session.editor
        }
    }

    /// A session's editor, when it started and when it was last seen.
    private struct EditorSessionRow {
        var editor: Editor
        var started: Date
        var seen: Date
    }

    private static func editorSession(_ db: any SQLSession, tokenHash: String) throws -> EditorSessionRow? {
        try SQLRow.fetchOne(
            db,
            sql: """
                SELECT e.id, e.name, e.createdAt, s.createdAt AS started, s.lastSeenAt
                FROM editorSession s JOIN editor e ON e.id = s.editorId WHERE s.tokenHash = ?
                """,
            arguments: [tokenHash]
        ).map {
            EditorSessionRow(
                editor: Editor(id: $0["id"], name: $0["name"], createdAt: $0["createdAt"]), started: $0["started"],
                seen: $0["lastSeenAt"])
        }
    }

    /// Ends a session (sign out).
    public func endEditorSession(tokenHash: String) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM editorSession WHERE tokenHash = ?", arguments: [tokenHash])
        }
    }
}
