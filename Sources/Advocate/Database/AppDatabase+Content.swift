import AdvocateCore
import Foundation

extension AppDatabase {
    /// Inserts new items and updates existing ones (matched by URL) in one transaction; an updated item's weeks,
    /// texts and variants are replaced by the new ones, but for the weeks of the items whose URLs are in `keep` (the
    /// file named no week for them). `editor` is recorded as the one who made the change.
    public func upsertContent(
        _ items: [ContentItem], now: Date, by editor: String = "cli", keepingWeeksOf keep: Set<String> = []
    ) throws -> UpsertCount {
        try write { db in
            var count = UpsertCount()
            for item in items {
                if let row = try SQLRow.fetchOne(
                    db, sql: "SELECT * FROM contentItem WHERE url = ?", arguments: [item.url])
                {
                    let id: Int64 = row["id"]
                    // What the file does not give (translations, the prompt, the language) is kept: an older
                    // export must not wipe work done in the editor.
                    let existing = try Self.item(row, db: db)
                    var updated = item
                    updated.id = id
                    if updated.variants.isEmpty { updated.variants = existing.variants }
                    if updated.prompt == nil { updated.prompt = existing.prompt }
                    if updated.language == nil { updated.language = existing.language }
                    // An item the file names no week for keeps its weeks: a re-import to mend a title must not move
                    // a mailed item into this week's digest (it would be mailed again).
                    if keep.contains(item.url) { updated.weeks = existing.weeks }
                    try Self.update(updated, now: now, db: db)
                    try Self.note(db, itemID: id, editor: editor, action: "import", detail: item.title, at: now)
                    count.updated += 1
                } else {
                    let id = try Self.insert(item, now: now, db: db)
                    try Self.note(db, itemID: id, editor: editor, action: "import", detail: item.title, at: now)
                    count.created += 1
                }
            }
            return count
        }
    }

    /// Adds one item; fails when its URL is already known.
    public func addContent(_ item: ContentItem, now: Date, by editor: String = "cli") throws -> ContentItem {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM contentItem WHERE url = ?", arguments: [item.url]) ?? false {
                throw StoreError.conflict(
                    "content with URL \(item.url) already exists; use content import to update it")
            }
            var saved = item
            saved.id = try Self.insert(item, now: now, db: db)
            try Self.note(db, itemID: saved.id, editor: editor, action: "add", detail: item.title, at: now)
            return saved
        }
    }

    /// Replaces an existing item's fields, texts, variants and weeks (a week it keeps keeps its place). With
    /// `expectedVersion` (``contentVersion(id:)`` when the form was opened) a change made meanwhile by someone else
    /// is a conflict instead of being overwritten.
    public func updateContent(_ item: ContentItem, now: Date, by editor: String, expectedVersion: String? = nil)
        throws -> ContentItem
    {
        guard let id = item.id else { throw StoreError.notFound("the item has no id") }
        return try write { db in
            guard
                let version = try String.fetchOne(
                    db, sql: "SELECT updatedAt FROM contentItem WHERE id = ?", arguments: [id])
            else { throw StoreError.notFound("no content item with id \(id)") }
            if let expectedVersion, expectedVersion != version {
                let last = try SQLRow.fetchOne(
                    db, sql: "SELECT editor, at FROM contentChange WHERE itemId = ? ORDER BY id DESC LIMIT 1",
                    arguments: [id])
                throw StoreError.conflict(
                    "\(last?["editor"] as String? ?? "someone") changed this item after you opened it; "
                        + "reload it to see their changes, then make yours again")
            }
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM contentItem WHERE url = ? AND id <> ?", arguments: [item.url, id]) ?? false
            {
                throw StoreError.conflict("another item already links to \(item.url)")
            }
            try Self.update(item, now: now, db: db)
            try Self.note(db, itemID: id, editor: editor, action: "edit", detail: item.title, at: now)
            return try Self.item(
                try SQLRow.fetchOne(db, sql: "SELECT * FROM contentItem WHERE id = ?", arguments: [id])!, db: db)
        }
    }

    /// Items of `week` in the editor's order, or every item by id.
    public func contentItems(week: ISOWeek? = nil) throws -> [ContentItem] {
        try read { db in
            let rows =
                if let week {
                    try SQLRow.fetchAll(
                        db,
                        sql: """
                            SELECT i.* FROM contentItem i JOIN contentWeek w ON w.itemId = i.id
                            WHERE w.week = ? ORDER BY w.position, i.id
                            """,
                        arguments: [week.description])
                } else {
                    try SQLRow.fetchAll(db, sql: "SELECT * FROM contentItem ORDER BY id")
                }
            return try rows.map { try Self.item($0, db: db) }
        }
    }

    /// Items offered in no week yet, newest first.
    public func draftItems() throws -> [ContentItem] {
        try read { db in
            try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT * FROM contentItem WHERE id NOT IN (SELECT itemId FROM contentWeek) ORDER BY id DESC
                    """
            ).map { try Self.item($0, db: db) }
        }
    }

    /// Every week that has items, with how many.
    public func contentWeeks() throws -> [(week: ISOWeek, items: Int)] {
        try read { db in
            try SQLRow.fetchAll(db, sql: "SELECT week, COUNT(*) AS n FROM contentWeek GROUP BY week ORDER BY week")
                .compactMap { row in (try? ISOWeek(parsing: row["week"])).map { ($0, row["n"]) } }
        }
    }

    /// The item's version: when it last changed (the edit form sends it back, see ``updateContent``).
    public func contentVersion(id: Int64) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT updatedAt FROM contentItem WHERE id = ?", arguments: [id])
        }
    }

    /// The item with this id.
    public func contentItem(id: Int64) throws -> ContentItem? {
        try read { db in
            try SQLRow.fetchOne(db, sql: "SELECT * FROM contentItem WHERE id = ?", arguments: [id]).map {
                try Self.item($0, db: db)
            }
        }
    }

    /// Removes an item with its weeks and texts. Returns whether it existed. Its clicks keep counting without it
    /// (their item becomes NULL): detached ``detachSlice`` at a time, each slice its own short transaction, before
    /// the item itself is deleted in one transaction with its audit note. One transaction for it all held the write
    /// lock for seconds with a million clicks, and every click recorded meanwhile waited. A removal cut short leaves
    /// the item in place, with some of its clicks already counted without it; running it again finishes it.
    /// With `draftOnly` (the editor's pages) an item in any week is left alone, every slice checking so, and the
    /// answer is false, as for an item that is gone: only `advocate content remove` deletes a scheduled item.
    public func removeContent(
        id: Int64, now: Date = Date(), by editor: String = "cli", draftOnly: Bool = false
    ) throws -> Bool {
        @Sendable func scheduled(_ db: any SQLSession) throws -> Bool {
            try draftOnly
                && Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM contentWeek WHERE itemId = ?)", arguments: [id]) == true
        }
        while try write({ db in
            guard try !scheduled(db) else { return false }
            try db.execute(
                sql: "UPDATE click SET itemId = NULL WHERE id IN (SELECT id FROM click WHERE itemId = ? LIMIT ?)",
                arguments: [id, Self.detachSlice])
            return db.changesCount == Self.detachSlice
        }) {}
        return try write { db in
            guard try !scheduled(db) else { return false }
            let title = try String.fetchOne(db, sql: "SELECT title FROM contentItem WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM contentItem WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            try Self.note(db, itemID: id, editor: editor, action: "remove", detail: title ?? "", at: now)
            return true
        }
    }

    /// Clicks detached from a removed item per transaction: each is rewritten with its index entries (about 70 µs
    /// a click on SQLite), so a slice holds the write lock for about 15 ms and the click server's writer waits
    /// about that long between two. (Measured over 1,000,000 clicks, 125,000 of them the item's: one transaction
    /// held the lock for 2.7 s; slices of 200 for 14 ms at the median, 48 ms at p99, 13 s in all, as each slice
    /// rewrites the report index's pages anew.)
    static let detachSlice = 200

    /// Moves an item one place up (`by: -1`) or down (`by: 1`) in `week`.
    public func moveContent(id: Int64, in week: ISOWeek, by offset: Int, now: Date, editor: String) throws {
        try write { db in
            var order = try Int64.fetchAll(
                db, sql: "SELECT itemId FROM contentWeek WHERE week = ? ORDER BY position, itemId",
                arguments: [week.description])
            guard let index = order.firstIndex(of: id) else {
                throw StoreError.notFound("item \(id) is not in \(week)")
            }
            let target = index + offset
            guard order.indices.contains(target) else { return }
            order.swapAt(index, target)
            for (position, itemID) in order.enumerated() {
                try db.execute(
                    sql: "UPDATE contentWeek SET position = ? WHERE week = ? AND itemId = ?",
                    arguments: [position, week.description, itemID])
            }
            try Self.note(
                db, itemID: id, editor: editor, action: offset < 0 ? "move up" : "move down",
                detail: week.description, at: now)
        }
    }

    /// Moves an item from one week to another (`from: nil` schedules a draft; `to: nil` makes it a draft of
    /// that week's item).
    public func rescheduleContent(id: Int64, from: ISOWeek?, to: ISOWeek?, now: Date, editor: String) throws {
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contentItem WHERE id = ?", arguments: [id]) ?? false else {
                throw StoreError.notFound("no content item with id \(id)")
            }
            if let from {
                try db.execute(
                    sql: "DELETE FROM contentWeek WHERE itemId = ? AND week = ?", arguments: [id, from.description])
                guard db.changesCount > 0 else { throw StoreError.notFound("item \(id) is no longer in \(from)") }
            }
            try db.execute(sql: "UPDATE contentItem SET updatedAt = ? WHERE id = ?", arguments: [now, id])
            if let to { try Self.schedule(id, week: to, db: db) }
            // Out of one week while still in others is no draft.
            let left = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM contentWeek WHERE itemId = ?", arguments: [id])
            let target = to?.description ?? (left ?? 0 > 0 ? "out of the week" : "draft")
            try Self.note(
                db, itemID: id, editor: editor, action: "reschedule",
                detail: "\(from?.description ?? "draft") → \(target)", at: now)
        }
    }

    /// The recorded changes of an item (or of all content), newest first.
    public func contentChanges(itemID: Int64? = nil, limit: Int = 50) throws -> [ContentChange] {
        try read { db in
            try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT itemId, editor, action, detail, at FROM contentChange
                    WHERE CAST(? AS BIGINT) IS NULL OR itemId = ? ORDER BY id DESC LIMIT ?
                    """,
                arguments: [itemID, itemID, limit]
            ).map {
                ContentChange(
                    itemID: $0["itemId"], editor: $0["editor"], action: $0["action"], detail: $0["detail"], at: $0["at"]
                )
            }
        }
    }

    // MARK: - Mapping

    static func note(_ db: any SQLSession, itemID: Int64?, editor: String, action: String, detail: String, at: Date)
        throws
    {
        try db.execute(
            sql: "INSERT INTO contentChange (itemId, editor, action, detail, at) VALUES (?, ?, ?, ?, ?)",
            arguments: [itemID, editor, action, detail, at])
    }

    /// Inserts a new item with its weeks (each at the end of its week), texts and variants.
    static func insert(_ item: ContentItem, now: Date, db: any SQLSession) throws -> Int64 {
        let id = try Int64.fetchOne(
            db,
            sql: """
                INSERT INTO contentItem (url, title, summary, imageURL, theme, language, prompt, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """,
            arguments: [
                item.url, item.title, item.summary, item.imageURL, item.theme, item.language?.rawValue, item.prompt,
                now, now,
            ])!
        for week in item.weeks { try schedule(id, week: week, db: db) }
        try insertTexts(item, id: id, db: db)
        return id
    }

    private static func update(_ item: ContentItem, now: Date, db: any SQLSession) throws {
        guard let id = item.id else { return }
        try db.execute(
            sql: """
                UPDATE contentItem SET url = ?, title = ?, summary = ?, imageURL = ?, theme = ?, language = ?,
                prompt = ?, updatedAt = ? WHERE id = ?
                """,
            arguments: [
                item.url, item.title, item.summary, item.imageURL, item.theme, item.language?.rawValue, item.prompt,
                now, id,
            ])
        let weeks = item.weeks.map(\.description)
        for old in try String.fetchAll(db, sql: "SELECT week FROM contentWeek WHERE itemId = ?", arguments: [id])
        where !weeks.contains(old) {
            try db.execute(sql: "DELETE FROM contentWeek WHERE itemId = ? AND week = ?", arguments: [id, old])
        }
        for week in item.weeks { try schedule(id, week: week, db: db) }
        try db.execute(sql: "DELETE FROM suggestedText WHERE itemId = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM contentVariant WHERE itemId = ?", arguments: [id])
        try insertTexts(item, id: id, db: db)
    }

    /// Adds the item to the end of `week` (nothing when it is already there).
    private static func schedule(_ id: Int64, week: ISOWeek, db: any SQLSession) throws {
        try db.execute(
            sql: """
                INSERT INTO contentWeek (itemId, week, position)
                VALUES (?, ?, (SELECT COALESCE(MAX(position) + 1, 0) FROM contentWeek WHERE week = ?))
                ON CONFLICT DO NOTHING
                """,
            arguments: [id, week.description, week.description])
    }

    private static func insertTexts(_ item: ContentItem, id: Int64, db: any SQLSession) throws {
        var position = 0
        func add(_ text: SuggestedText, language: Language?) throws {
            try db.execute(
                sql: "INSERT INTO suggestedText (itemId, position, network, text, language) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, position, text.network?.rawValue, text.text, language?.rawValue])
            position += 1
        }
        for text in item.texts { try add(text, language: nil) }
        for variant in item.variants {
            try db.execute(
                sql: "INSERT INTO contentVariant (itemId, language, title, summary, prompt) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, variant.language.rawValue, variant.title, variant.summary, variant.prompt])
            for text in variant.texts { try add(text, language: variant.language) }
        }
    }

    private static func item(_ row: SQLRow, db: any SQLSession) throws -> ContentItem {
        let id: Int64 = row["id"]
        let weeks = try String.fetchAll(
            db, sql: "SELECT week FROM contentWeek WHERE itemId = ? ORDER BY week", arguments: [id]
        )
        .compactMap { try? ISOWeek(parsing: $0) }
        var texts: [String: [SuggestedText]] = [:]
        for row in try SQLRow.fetchAll(
            db, sql: "SELECT network, text, language FROM suggestedText WHERE itemId = ? ORDER BY position",
            arguments: [id])
        {
            texts[row["language"] ?? "", default: []].append(
                SuggestedText(
                    network: (row["network"] as String?).flatMap(Network.init(rawValue:)), text: row["text"]))
        }
        let variants = try SQLRow.fetchAll(
            db, sql: "SELECT * FROM contentVariant WHERE itemId = ? ORDER BY language", arguments: [id]
        ).compactMap { row -> ContentVariant? in
            guard let language = Language(rawValue: row["language"]) else { return nil }
            return ContentVariant(
                language: language, title: row["title"], summary: row["summary"], prompt: row["prompt"],
                texts: texts[language.rawValue] ?? [])
        }
        return ContentItem(
            id: id, url: row["url"], title: row["title"], summary: row["summary"], imageURL: row["imageURL"],
            theme: row["theme"], weeks: weeks, texts: texts[""] ?? [],
            language: (row["language"] as String?).flatMap(Language.init(rawValue:)), prompt: row["prompt"],
            variants: variants)
    }
}

/// One recorded change to content: who, what, when.
public struct ContentChange: Sendable, Codable, Hashable {
    /// The item changed (`nil` once removed items are gone).
    public var itemID: Int64?
    /// The editor's name, or `cli` / `feed` for the command line and feeds.
    public var editor: String
    /// add, edit, import, remove, move up, move down, reschedule.
    public var action: String
    /// The title or the weeks involved.
    public var detail: String
    /// When.
    public var at: Date
}
