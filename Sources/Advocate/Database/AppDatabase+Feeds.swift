import AdvocateCore
import Foundation

/// What a feed's last fetch left behind for the next conditional one.
public struct FeedValidators: Sendable, Hashable {
    /// `ETag` of the last answer.
    public var etag: String?
    /// `Last-Modified` of the last answer.
    public var lastModified: String?
}

extension AppDatabase {
    /// The validators stored for `url`.
    public func feedValidators(url: String) throws -> FeedValidators {
        try read { db in
            let row = try SQLRow.fetchOne(
                db, sql: "SELECT etag, lastModified FROM feedState WHERE url = ?", arguments: [url])
            return FeedValidators(etag: row?["etag"], lastModified: row?["lastModified"])
        }
    }

    /// Whether entries of `url` were ever loaded.
    public func feedKnown(url: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM feedEntry WHERE feedURL = ? LIMIT 1", arguments: [url]) ?? false
        }
    }

    /// Records a fetch that failed; the validators stay as they were.
    public func noteFeedFailure(url: String, reason: String, now: Date) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO feedState (url, checkedAt, lastError) VALUES (?, ?, ?)
                    ON CONFLICT(url) DO UPDATE SET checkedAt = excluded.checkedAt, lastError = excluded.lastError
                    """,
                arguments: [url, now, reason])
        }
    }

    /// Adds the entries of `url` not seen before as `items` (same order), marks every entry seen, and stores the
    /// validators, all in one transaction. An entry whose page is already an item is only marked seen. Returns how
    /// many items were added.
    public func loadFeed(
        url: String, entries: [(entry: FeedEntry, item: ContentItem)], validators: FeedValidators?, now: Date
    ) throws -> Int {
        try write { db in
            var added = 0
            for (entry, item) in entries {
                let seen = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM feedEntry WHERE feedURL = ? AND entryKey = ?", arguments: [url, entry.key])
                if seen ?? false { continue }
                var itemID = try Int64.fetchOne(
                    db, sql: "SELECT id FROM contentItem WHERE url = ?", arguments: [item.url])
                if itemID == nil {
                    itemID = try Self.insert(item, now: now, db: db)
                    try Self.note(db, itemID: itemID, editor: "feed", action: "add", detail: url, at: now)
                    added += 1
                }
                try db.execute(
                    sql: "INSERT INTO feedEntry (feedURL, entryKey, itemId, seenAt) VALUES (?, ?, ?, ?)",
                    arguments: [url, entry.key, itemID, now])
            }
            try db.execute(
                sql: """
                    INSERT INTO feedState (url, etag, lastModified, checkedAt, lastError) VALUES (?, ?, ?, ?, NULL)
                    ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, lastModified = excluded.lastModified,
                        checkedAt = excluded.checkedAt, lastError = NULL
                    """,
                arguments: [url, validators?.etag, validators?.lastModified, now])
            return added
        }
    }

    /// Marks a 304: checked now, nothing else changes.
    public func noteFeedUnchanged(url: String, now: Date) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE feedState SET checkedAt = ?, lastError = NULL WHERE url = ?", arguments: [now, url])
        }
    }
}
