import AdvocateCore

extension AppDatabase {
    /// The schema, as named migrations, the same for both backends: written in SQLite's SQL, which
    /// ``PostgresSchema`` translates for PostgreSQL. Constraints live here, not in Swift: the database enforces them
    /// for every writer.
    static let migrations: [StoreMigration] = [
        StoreMigration("v1-ambassadors-content") { db in
            try db.executeSchema(
                sql: """
                    CREATE TABLE ambassador (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        email TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (email LIKE '_%@_%._%'),
                        name TEXT NOT NULL DEFAULT '',
                        language TEXT NOT NULL CHECK (language IN ('nl', 'en')),
                        themes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(themes)),
                        networks TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(networks)),
                        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unsubscribed', 'pending')),
                        leaderboardOptIn BOOLEAN NOT NULL DEFAULT 0,
                        joinedAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        unsubscribedAt DATETIME
                    );
                    CREATE INDEX ambassador_status ON ambassador(status);

                    CREATE TABLE contentItem (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        url TEXT NOT NULL UNIQUE CHECK (url LIKE 'http://%' OR url LIKE 'https://%'),
                        title TEXT NOT NULL CHECK (title <> ''),
                        summary TEXT NOT NULL DEFAULT '',
                        imageURL TEXT,
                        theme TEXT,
                        createdAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL
                    );

                    CREATE TABLE contentWeek (
                        itemId INTEGER NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                        week TEXT NOT NULL CHECK (week GLOB '[0-9][0-9][0-9][0-9]-W[0-5][0-9]'),
                        PRIMARY KEY (itemId, week)
                    ) WITHOUT ROWID;
                    CREATE INDEX contentWeek_week ON contentWeek(week);

                    CREATE TABLE suggestedText (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        itemId INTEGER NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        network TEXT,
                        text TEXT NOT NULL CHECK (text <> ''),
                        UNIQUE (itemId, position)
                    );
                    """)
        },
        StoreMigration("v2-digests-deliveries") { db in
            try db.executeSchema(
                sql: """
                    CREATE TABLE digest (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        week TEXT NOT NULL UNIQUE CHECK (week GLOB '[0-9][0-9][0-9][0-9]-W[0-5][0-9]'),
                        createdAt DATETIME NOT NULL,
                        completedAt DATETIME
                    );

                    -- One row per digest x ambassador. The ambassador is set to NULL when they are removed, so the
                    -- counts stay while the person is gone.
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        digestId INTEGER NOT NULL REFERENCES digest(id) ON DELETE CASCADE,
                        ambassadorId INTEGER REFERENCES ambassador(id) ON DELETE SET NULL,
                        status TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sending', 'sent', 'retry', 'failed', 'inDoubt', 'skipped')),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        lastError TEXT,
                        messageId TEXT,
                        nextAttemptAt DATETIME,
                        createdAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        sentAt DATETIME,
                        UNIQUE (digestId, ambassadorId)
                    );
                    CREATE INDEX delivery_digest_status ON delivery(digestId, status);
                    """)
        },
        StoreMigration("v3-clicks") { db in
            try db.executeSchema(
                sql: """
                    -- One row per hit on a tracked link. No IP address and no user agent are stored: only what the
                    -- classifier concluded and why. The ambassador and item become NULL when they are removed, so
                    -- the counts stay.
                    CREATE TABLE click (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at DATETIME NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('share', 'visit', 'trap')),
                        week TEXT NOT NULL CHECK (week GLOB '[0-9][0-9][0-9][0-9]-W[0-5][0-9]'),
                        itemId INTEGER REFERENCES contentItem(id) ON DELETE SET NULL,
                        network TEXT,
                        ambassadorId INTEGER REFERENCES ambassador(id) ON DELETE SET NULL,
                        class TEXT NOT NULL CHECK (class IN ('human', 'crawler', 'scanner')),
                        reason TEXT NOT NULL
                    );
                    CREATE INDEX click_week ON click(week, kind, class);
                    CREATE INDEX click_ambassador ON click(ambassadorId, week);
                    """)
        },
        StoreMigration("v4-click-report-index") { db in
            // Covers the distinct-share part of reports: human shares are read from the index alone.
            try db.executeSchema(
                sql: "CREATE INDEX click_report ON click(kind, class, itemId, network, ambassadorId, week, at)")
        },
        StoreMigration("v5-share-key") { db in
            // One definition of a share (AdvocateCore's ShareKey): every share and visit click carries its share's
            // key, fixed when stored, so removing an item or a person no longer changes what counts as a share.
            try db.executeSchema(sql: "ALTER TABLE click ADD COLUMN shareKey INTEGER")
            let select = try db.cachedStatement(
                sql: """
                    SELECT id, ambassadorId, itemId, network, week FROM click
                    WHERE kind IN ('share', 'visit') AND id > ? ORDER BY id LIMIT 10000
                    """)
            let update = try db.cachedStatement(sql: "UPDATE click SET shareKey = ? WHERE id = ?")
            var cursor: Int64 = 0
            while true {  // in batches, so a large click table does not have to fit in memory
                let rows = try SQLRow.fetchAll(select, arguments: [cursor])
                guard let last = rows.last else { break }
                cursor = last["id"]
                for row in rows {
                    let id: Int64 = row["id"]
                    var key = -id  // a click of a person who is already gone: a share of its own, as before
                    if let ambassador: Int64 = row["ambassadorId"],
                        let network = (row["network"] as String?).flatMap(Network.init(rawValue:)),
                        let week = try? ISOWeek(parsing: row["week"])
                    {
                        // A removed item's clicks of one person, network and week stay one share (item 0).
                        let item: Int64 = row["itemId"] ?? 0
                        key = ShareKey.of(ambassadorID: ambassador, itemID: item, network: network, week: week)
                    }
                    try update.execute(arguments: [key, id])
                }
            }
            try db.executeSchema(
                sql: """
                    DROP INDEX click_report;
                    CREATE INDEX click_report ON click(kind, class, itemId, network, ambassadorId, week, at, shareKey);
                    """)
        },
        StoreMigration("v6-membership") { db in
            try db.executeSchema(
                sql: """
                    -- What ambassadors choose for themselves (join form, preferences page).
                    ALTER TABLE ambassador ADD COLUMN frequency TEXT NOT NULL DEFAULT 'weekly'
                        CHECK (frequency IN ('weekly', 'biweekly'));
                    ALTER TABLE ambassador ADD COLUMN frequencyAnchor INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE ambassador ADD COLUMN pausedUntil TEXT
                        CHECK (pausedUntil IS NULL OR pausedUntil GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]');

                    -- A sign-up waiting for its confirmation (double opt-in). Only a hash of the mailed token is kept.
                    CREATE TABLE signup (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        tokenHash TEXT NOT NULL UNIQUE,
                        email TEXT NOT NULL COLLATE NOCASE CHECK (email LIKE '_%@_%._%'),
                        name TEXT NOT NULL,
                        language TEXT NOT NULL CHECK (language IN ('nl', 'en')),
                        themes TEXT NOT NULL CHECK (json_valid(themes)),
                        networks TEXT NOT NULL CHECK (json_valid(networks)),
                        frequency TEXT NOT NULL CHECK (frequency IN ('weekly', 'biweekly')),
                        leaderboardOptIn BOOLEAN NOT NULL,
                        createdAt DATETIME NOT NULL,
                        expiresAt DATETIME NOT NULL
                    );
                    CREATE INDEX signup_email ON signup(email);

                    -- Mails the join form caused, for rate limiting: a fingerprint of the address, never the address.
                    CREATE TABLE membershipMail (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        fingerprint TEXT NOT NULL,
                        sentAt DATETIME NOT NULL
                    );
                    CREATE INDEX membershipMail_fingerprint ON membershipMail(fingerprint, sentAt);
                    CREATE INDEX membershipMail_sentAt ON membershipMail(sentAt);

                    -- Invitations, with the same ledger discipline as digests.
                    CREATE TABLE invitation (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        email TEXT NOT NULL COLLATE NOCASE CHECK (email LIKE '_%@_%._%'),
                        name TEXT NOT NULL DEFAULT '',
                        language TEXT NOT NULL CHECK (language IN ('nl', 'en')),
                        status TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sending', 'sent', 'retry', 'failed', 'inDoubt')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        lastError TEXT,
                        messageId TEXT,
                        createdAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL,
                        sentAt DATETIME,
                        acceptedAt DATETIME
                    );
                    CREATE INDEX invitation_email ON invitation(email, createdAt);
                    CREATE INDEX invitation_status ON invitation(status);

                    -- People who were removed must never be invited again: a fingerprint of the address only. (Since
                    -- the invitations' opt-out link the reason may also be 'declined' or 'removed+declined'.)
                    CREATE TABLE suppression (
                        fingerprint TEXT PRIMARY KEY,
                        reason TEXT NOT NULL,
                        createdAt DATETIME NOT NULL
                    ) WITHOUT ROWID;
                    """)
        },
        StoreMigration("v7-handed-over") { db in
            // The moment the end of a message was handed to the relay: a run that dies before it certainly did not
            // deliver (the message is sent again); one that dies after it may have (in doubt).
            try db.executeSchema(
                sql: """
                    ALTER TABLE delivery ADD COLUMN handedOverAt DATETIME;
                    ALTER TABLE invitation ADD COLUMN handedOverAt DATETIME;
                    """)
        },
        StoreMigration("v8-content-languages") { db in
            // One item in several languages, an "in your own words" prompt, the order of a week's items, and who
            // changed what.
            try db.executeSchema(
                sql: """
                    ALTER TABLE contentItem ADD COLUMN language TEXT;
                    ALTER TABLE contentItem ADD COLUMN prompt TEXT;
                    ALTER TABLE suggestedText ADD COLUMN language TEXT;
                    ALTER TABLE contentWeek ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE contentVariant (
                        itemId INTEGER NOT NULL REFERENCES contentItem(id) ON DELETE CASCADE,
                        language TEXT NOT NULL,
                        title TEXT NOT NULL DEFAULT '',
                        summary TEXT NOT NULL DEFAULT '',
                        prompt TEXT,
                        PRIMARY KEY (itemId, language)
                    ) WITHOUT ROWID;
                    CREATE TABLE contentChange (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        itemId INTEGER,
                        editor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        detail TEXT NOT NULL DEFAULT '',
                        at DATETIME NOT NULL
                    );
                    CREATE INDEX contentChange_item ON contentChange(itemId, at);
                    """)
        },
        StoreMigration("v9-editors") { db in
            // Named editor accounts (bcrypt hashes) and their sign-in sessions (only a hash of each cookie).
            try db.executeSchema(
                sql: """
                    CREATE TABLE editor (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        passwordHash TEXT NOT NULL,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE TABLE editorSession (
                        tokenHash TEXT PRIMARY KEY,
                        editorId INTEGER NOT NULL REFERENCES editor(id) ON DELETE CASCADE,
                        createdAt DATETIME NOT NULL,
                        lastSeenAt DATETIME NOT NULL
                    ) WITHOUT ROWID;
                    """)
        },
        StoreMigration("v10-feeds") { db in
            // Per feed: the validators of the last answer (conditional GET) and the entries already seen.
            try db.executeSchema(
                sql: """
                    CREATE TABLE feedState (
                        url TEXT PRIMARY KEY,
                        etag TEXT,
                        lastModified TEXT,
                        checkedAt DATETIME,
                        lastError TEXT
                    ) WITHOUT ROWID;
                    CREATE TABLE feedEntry (
                        feedURL TEXT NOT NULL,
                        entryKey TEXT NOT NULL,
                        itemId INTEGER REFERENCES contentItem(id) ON DELETE SET NULL,
                        seenAt DATETIME NOT NULL,
                        PRIMARY KEY (feedURL, entryKey)
                    ) WITHOUT ROWID;
                    """)
        },
        StoreMigration("v11-click-truth") { db in
            // Per visit: whether it confirms its share (a network's preview fetch, or a reader), and whether its
            // reader was new today to the share and to the item (counted in memory; no reader identifier is stored).
            try db.executeSchema(
                sql: """
                    ALTER TABLE click ADD COLUMN confirms TEXT;
                    ALTER TABLE click ADD COLUMN newReader INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE click ADD COLUMN newItemReader INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX click_share ON click(shareKey, kind, class);
                    """)
        },
        StoreMigration("v12-click-request-id") { db in
            // The reverse proxy's request id: a request retried on a second click server is stored once.
            try db.executeSchema(
                sql: """
                    ALTER TABLE click ADD COLUMN requestId TEXT;
                    CREATE UNIQUE INDEX click_request ON click(requestId) WHERE requestId IS NOT NULL;
                    """)
        },
        StoreMigration("v13-delivery-claim") { db in
            // The run that claimed a delivery (its sender key): several senders of one week on PostgreSQL share
            // the work row by row, and a dead run's claims are given back.
            try db.executeSchema(sql: "ALTER TABLE delivery ADD COLUMN claimedBy INTEGER")
        },
        StoreMigration("v14-click-share-confirms") { db in
            // Whether a share is confirmed (a visit through it carried evidence) is then answered from the index
            // alone: the report asks it for every human share.
            try db.executeSchema(
                sql: """
                    DROP INDEX click_share;
                    CREATE INDEX click_share ON click(shareKey, kind, class, confirms);
                    """)
        },
        StoreMigration("v15-click-item") { db in
            // Finds an item's clicks when it is removed (they are detached a slice at a time, and the delete's
            // foreign-key action no longer scans every click). New clicks land at the end of their item's run of
            // the index, so it costs the click writer little.
            try db.executeSchema(sql: "CREATE INDEX click_item ON click(itemId)")
        },
        StoreMigration("v16-delivery-ambassador") { db in
            // Finds a person's deliveries when they are removed (their error texts are cleared, and the delete's
            // foreign-key action no longer scans every delivery: 254 ms -> 4 ms of write lock over 1,000,000).
            // The ledger's commits never change the column, so sending does not pay for it.
            try db.executeSchema(sql: "CREATE INDEX delivery_ambassador ON delivery(ambassadorId)")
        },
        StoreMigration("v17-click-inbox") { db in
            // Clicks as the click server commits them before its redirect, without the indexes: moved into `click`
            // in arrival order when the server is idle or before any read (see AppDatabase+ClickInbox). It checks
            // what `click` checks, so that a row it takes can always be moved. SQLite only: PostgreSQL, shared by
            // several machines, stores clicks directly.
            guard db.dialect == .sqlite else { return }
            try db.executeSchema(
                sql: """
                    CREATE TABLE clickInbox (
                        id INTEGER PRIMARY KEY,
                        at DATETIME NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('share', 'visit', 'trap')),
                        week TEXT NOT NULL CHECK (week GLOB '[0-9][0-9][0-9][0-9]-W[0-5][0-9]'),
                        itemId INTEGER,
                        network TEXT,
                        ambassadorId INTEGER,
                        class TEXT NOT NULL CHECK (class IN ('human', 'crawler', 'scanner')),
                        reason TEXT NOT NULL,
                        shareKey INTEGER,
                        confirms TEXT,
                        newReader INTEGER NOT NULL,
                        newItemReader INTEGER NOT NULL,
                        requestId TEXT,
                        taints TEXT,
                        checkBefore REAL
                    )
                    """)
        },
        StoreMigration("v18-click-parcel") { db in
            // The clicks of one group commit as one row of text (ClickParcel): the click server writes a row per
            // commit instead of one per click. What an older server left in clickInbox is moved first. Ids never
            // come back once the table is empty (AUTOINCREMENT), so a reader's upper bound holds. SQLite only.
            guard db.dialect == .sqlite else { return }
            try db.executeSchema(
                sql: """
                    CREATE TABLE clickParcel (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        clicks INTEGER NOT NULL CHECK (clicks > 0),
                        lines TEXT NOT NULL
                    )
                    """)
        },
        StoreMigration("v19-click-report-by-time") { db in
            // The report's covering index ordered by time after kind and class: a new click lands at the end of its
            // kind and class instead of on a random page (by item, network, person), which took about a third of
            // every click's INSERT (Benchmarks/sqlite_click_indexes.py). The report reads every human share it
            // covers either way, and a date range is now a seek.
            try db.executeSchema(
                sql: """
                    DROP INDEX click_report;
                    CREATE INDEX click_report ON click(kind, class, at, itemId, network, ambassadorId, week, shareKey);
                    """)
        },
    ]
}

/// One named step of the schema.
struct StoreMigration: Sendable {
    let name: String
    let apply: @Sendable (any SQLSession) throws -> Void

    init(_ name: String, apply: @escaping @Sendable (any SQLSession) throws -> Void) {
        self.name = name
        self.apply = apply
    }
}

extension SQLSession {
    /// Runs schema statements written in SQLite's SQL, translated when this is PostgreSQL.
    func executeSchema(sql: String) throws {
        try execute(sql: dialect == .postgres ? PostgresSchema.translate(sql) : sql)
    }
}
