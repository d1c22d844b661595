import AdvocateCore
import Foundation
import GRDB

extension AppDatabase {
    /// Inserts new items and updates existing ones (matched by URL) in one transaction; an updated item's weeks
    /// and texts are replaced by the new ones.
    public func upsertContent(_ items: [ContentItem], now: Date) throws -> UpsertCount {
        try write { db in
            var count = UpsertCount()
            for item in items {
                if let id = try Int64.fetchOne(
                    db, sql: "SELECT id FROM contentItem WHERE url = ?", arguments: [item.url])
                {
                    try db.execute(
                        sql: """
                            UPDATE contentItem SET title = ?, summary = ?, imageURL = ?, theme = ?, updatedAt = ?
                            WHERE id = ?
                            """,
                        arguments: [item.title, item.summary, item.imageURL, item.theme, now, id])
                    try db.execute(sql: "DELETE FROM contentWeek WHERE itemId = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM suggestedText WHERE itemId = ?", arguments: [id])
                    try Self.insertDetails(item, id: id, db: db)
                    count.updated += 1
                } else {
                    _ = try Self.insert(item, now: now, db: db)
                    count.created += 1
                }
            }
            return count
        }
    }

    /// Adds one item; fails when its URL is already known.
    public func addContent(_ item: ContentItem, now: Date) throws -> ContentItem {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM contentItem WHERE url = ?", arguments: [item.url]) ?? false {
                throw StoreError.conflict(
                    "content with URL \(item.url) already exists; use content import to update it")
            }
            var saved = item
            saved.id = try Self.insert(item, now: now, db: db)
            return saved
        }
    }

    /// Items ordered by id, optionally only those offered in `week`.
    public func contentItems(week: ISOWeek? = nil) throws -> [ContentItem] {
        try read { db in
            let rows =
                if let week {
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT * FROM contentItem
                            WHERE id IN (SELECT itemId FROM contentWeek WHERE week = ?) ORDER BY id
                            """,
                        arguments: [week.description])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM contentItem ORDER BY id")
                }
            return try rows.map { try Self.item($0, db: db) }
        }
    }

    /// The item with this id.
    public func contentItem(id: Int64) throws -> ContentItem? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM contentItem WHERE id = ?", arguments: [id]).map {
                try Self.item($0, db: db)
            }
        }
    }

    /// Removes an item with its weeks and texts. Returns whether it existed.
    public func removeContent(id: Int64) throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM contentItem WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: - Mapping

    private static func insert(_ item: ContentItem, now: Date, db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO contentItem (url, title, summary, imageURL, theme, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [item.url, item.title, item.summary, item.imageURL, item.theme, now, now])
        let id = db.lastInsertedRowID
        try insertDetails(item, id: id, db: db)
        return id
    }

    private static func insertDetails(_ item: ContentItem, id: Int64, db: Database) throws {
        for week in item.weeks {
            try db.execute(
                sql: "INSERT OR IGNORE INTO contentWeek (itemId, week) VALUES (?, ?)",
                arguments: [id, week.description])
        }
        for (position, text) in item.texts.enumerated() {
            try db.execute(
                sql: "INSERT INTO suggestedText (itemId, position, network, text) VALUES (?, ?, ?, ?)",
                arguments: [id, position, text.network?.rawValue, text.text])
        }
    }

    private static func item(_ row: Row, db: Database) throws -> ContentItem {
        let id: Int64 = row["id"]
        let weeks = try String.fetchAll(
            db, sql: "SELECT week FROM contentWeek WHERE itemId = ? ORDER BY week", arguments: [id]
        )
        .compactMap { try? ISOWeek(parsing: $0) }
        let texts = try Row.fetchAll(
            db, sql: "SELECT network, text FROM suggestedText WHERE itemId = ? ORDER BY position", arguments: [id]
        ).map { row in
            SuggestedText(network: (row["network"] as String?).flatMap(Network.init(rawValue:)), text: row["text"])
        }
        return ContentItem(
            id: id, url: row["url"], title: row["title"], summary: row["summary"], imageURL: row["imageURL"],
            theme: row["theme"], weeks: weeks, texts: texts)
    }
}
