import AdvocateCore
import Foundation
import Logging
import Synchronization

/// What the click server needs to answer a link without a database read per request: content items (the redirect
/// target always comes from here, never from the request), delivery times, and the recent hits per mail that
/// reveal scanners. Entries expire so that edits to content show up within a minute.
public final class LinkDirectory: Sendable {
    /// Values read from the store, each kept for `ttl` after its read (or as long as ``keep(_:for:now:lasting:)``
    /// says); emptied when one more value grows it past `limit` (a week's values are kept only where they fit).
    final class Expiring<Key: Hashable & Sendable, Value: Sendable>: Sendable {
        private let entries = Mutex<[Key: (value: Value, expires: Date)]>([:])
        private let ttl: TimeInterval
        private let limit: Int

        init(ttl: TimeInterval, limit: Int) {
            self.ttl = ttl
            self.limit = limit
        }

        /// The kept value, `nil` when it must be read (an optional value the store did not have is `.some(nil)`).
        func fresh(_ key: Key, now: Date) -> Value? {
            guard let entry = entries.withLock({ $0[key] }), now < entry.expires else { return nil }
            return entry.value
        }

        func keep(_ value: Value, for key: Key, now: Date, lasting: TimeInterval? = nil) {
            entries.withLock {
                if $0.count > limit { $0.removeAll() }
                $0[key] = (value, now.addingTimeInterval(lasting ?? ttl))
            }
        }

        /// As ``keep(_:for:now:lasting:)`` for many values, under one lock (a page of a week's mails: a week's
        /// 5,000 kept at once held every lookup of the event loops for 2-10 ms); when they would grow the cache
        /// past `limit`, the expired entries go first, and if they still would, none is kept (the values in use
        /// stay) and it answers false.
        @discardableResult
        func keep(_ values: [(key: Key, value: Value, lasting: TimeInterval?)], now: Date) -> Bool {
            entries.withLock { entries in
                func adding() -> Int { values.count { entries[$0.key] == nil } }
                if entries.count + adding() > limit {
                    entries = entries.filter { now < $0.value.expires }
                    guard entries.count + adding() <= limit else { return false }
                }
                for (key, value, lasting) in values { entries[key] = (value, now.addingTimeInterval(lasting ?? ttl)) }
                return true
            }
        }
    }

    /// A week's misses and reads (see ``readWeek(_:now:)``).
    private struct WeekReads {
        /// When the second whose misses are counted began.
        var since: Date
        var misses = 0
        var read: Date?
    }

    /// One ambassador's mail of one week.
    private struct Mail: Hashable, Sendable {
        var ambassadorID: Int64
        var week: ISOWeek
    }

    private let database: AppDatabase
    /// Where failed reads of a week together are told (``readWeek(_:now:)``).
    private let logger: Logger
    private let items: Expiring<Int64, ContentItem?>
    private let deliveries: Expiring<Mail, Date?>
    /// Each mail's recent hits in two generations: mails hit since the last turn, and those of the turn before.
    private let recentHits = Mutex<(current: [Mail: [MailHit]], previous: [Mail: [MailHit]])>(([:], [:]))
    /// Mails whose recent hits are kept at most (see ``noteMailHit(ambassadorID:week:hit:window:)``).
    private let recentMails: Int
    private let languages: Expiring<Int64, Language?>
    /// Each week's misses in the last second, and when its mails were last read at once (``readWeek(_:now:)``).
    private let weekReads = Mutex<[ISOWeek: WeekReads]>([:])
    /// A week of more mails than this is read a mail at a time.
    private let weekLimit: Int
    /// A week is read at once from this many misses of its mails' delivery times within a second.
    private let weekMisses: Int
    /// A week is read in pages of this many mails.
    private let weekPage: Int
    private let ttl: TimeInterval
    private let presses = Mutex<Set<Int64>>([])
    /// Post links' targets: an item's address with its campaign parameters (see ``taggedURL(_:source:medium:campaign:now:)``).
    private let tagged: Expiring<TaggedURL, String>

    /// What a post link's target is made of. The address is compared byte for byte: Swift's `==` takes two
    /// spellings of an accented letter for one, and the target must be made from the item's own bytes. (The
    /// synthesized hash stays right: addresses equal byte for byte are equal strings, so their hashes agree.)
    private struct TaggedURL: Hashable, Sendable {
        var url: String
        var source: String
        var medium: String
        var campaign: String

        static func == (a: Self, b: Self) -> Bool {
            a.url.utf8.elementsEqual(b.url.utf8) && a.source == b.source && a.medium == b.medium
                && a.campaign == b.campaign
        }
    }

    /// Delivery times and languages kept at most.
    static let mailLimit = 100_000

    /// Hits remembered per mail on its own links, and as many again on its posts' links.
    static let hitsPerMail = 32

    /// Creates a directory over `database`.
    public init(
        database: AppDatabase, ttl: TimeInterval = 60, recentMails: Int = 100_000, weekLimit: Int = 50_000,
        weekMisses: Int = 10, weekPage: Int = 500, logger: Logger = Logger(label: "advocate.links")
    ) {
        precondition(weekLimit <= Self.mailLimit / 2, "two weeks' mails fit in the caches")
        self.database = database
        self.logger = logger
        self.recentMails = recentMails
        self.ttl = ttl
        self.weekLimit = weekLimit
        self.weekMisses = weekMisses
        self.weekPage = weekPage
        items = Expiring(ttl: ttl, limit: 10_000)
        deliveries = Expiring(ttl: ttl, limit: Self.mailLimit)
        languages = Expiring(ttl: ttl, limit: Self.mailLimit)
        tagged = Expiring(ttl: ttl, limit: 10_000)
    }

    /// The content item, or `nil` when it does not exist (any more).
    public func item(id: Int64, now: Date) async throws -> ContentItem? {
        if let cached = cachedItem(id: id, now: now) { return cached }
        return try await database.perform { _ in try self.readItem(id: id, now: now) }
    }

    /// The ambassador's language, or `nil` once they are erased.
    public func language(ambassadorID: Int64, now: Date) async throws -> Language? {
        if let cached = cachedLanguage(ambassadorID: ambassadorID, now: now) { return cached }
        return try await database.perform { _ in try self.readLanguage(ambassadorID: ambassadorID, now: now) }
    }

    /// Notes a press of a share page's button; true the first time for a share (later presses add nothing, so a
    /// loop of POSTs cannot fill the click table).
    public func notePress(_ shareKey: Int64) -> Bool {
        presses.withLock { presses in
            if presses.count > 100_000 { presses.removeAll() }
            return presses.insert(shareKey).inserted
        }
    }

    /// How many mails' recent hits are kept (for tests).
    var recentMailCount: Int { recentHits.withLock { $0.current.count + $0.previous.count } }

    /// Forgets a press whose click could not be stored.
    func forgetPress(_ shareKey: Int64) { _ = presses.withLock { $0.remove(shareKey) } }

    /// As ``item(id:now:)``, reading the store when the item is not cached. Blocks: only on the store's threads
    /// (``AppDatabase/perform(_:)``), as the `read…` functions below.
    func readItem(id: Int64, now: Date) throws -> ContentItem? {
        if let cached = cachedItem(id: id, now: now) { return cached }
        let item = try database.contentItem(id: id)
        items.keep(item, for: id, now: now)
        return item
    }

    /// As ``language(ambassadorID:now:)``.
    func readLanguage(ambassadorID: Int64, now: Date) throws -> Language? {
        if let cached = cachedLanguage(ambassadorID: ambassadorID, now: now) { return cached }
        let value = try database.ambassador(id: ambassadorID)?.language
        languages.keep(value, for: ambassadorID, now: now)
        return value
    }

    /// When the ambassador's digest of `week` was delivered.
    func readDeliveredAt(ambassadorID: Int64, week: ISOWeek, now: Date) throws -> Date? {
        if let cached = cachedDeliveredAt(ambassadorID: ambassadorID, week: week, now: now) { return cached }
        let delivery = try database.deliveredAt(ambassadorID: ambassadorID, week: week)
        keepDelivery(delivery.at, awaited: delivery.awaited, ambassadorID: ambassadorID, week: week, now: now)
        return delivery.at
    }

    /// The delivery time of the ambassador's mail of `week` (when `delivery`; else `nil`) and their language (when
    /// `language`; else `nil`, as once they are erased): what is not cached is read, both in one statement when
    /// both must be (the first click of each mail needs both; two reads cost twice the store's round). When many
    /// of a week's delivery times are missed at once, the week's are read first (``readWeek(_:now:)``).
    func readMail(ambassadorID: Int64, week: ISOWeek, delivery: Bool, language: Bool, now: Date) throws -> (
        deliveredAt: Date?, language: Language?
    ) {
        if delivery, cachedDeliveredAt(ambassadorID: ambassadorID, week: week, now: now) == nil {
            readWeek(week, now: now)
        }
        switch cached(ambassadorID: ambassadorID, week: week, delivery: delivery, language: language, now: now) {
        case (.some(let deliveredAt), .some(let language)):
            return (deliveredAt, language)
        case (.some(let deliveredAt), nil):
            return (deliveredAt, try readLanguage(ambassadorID: ambassadorID, now: now))
        case (nil, .some(let language)):
            return (try readDeliveredAt(ambassadorID: ambassadorID, week: week, now: now), language)
        case (nil, nil):
            let facts = try database.mailFacts(ambassadorID: ambassadorID, week: week)
            keepDelivery(facts.deliveredAt, awaited: facts.awaited, ambassadorID: ambassadorID, week: week, now: now)
            languages.keep(facts.language, for: ambassadorID, now: now)
            return (facts.deliveredAt, facts.language)
        }
    }

    /// Counts a miss of one of `week`'s delivery times, and from the `weekMisses`th within a second reads the
    /// delivery times and languages of all of the week's mails and keeps them, unless the week was read (or begun
    /// to be) within `ttl` of `now`, either side. So a fresh server, or a week's mails just delivered and scanned,
    /// costs one read of the week instead of one per mail, while a click now and then on a mail of an old week
    /// reads its own mail only (a week of 5,000 costs 10-20 ms to read, a mail 50 us). The week is read a page at a
    /// time (``readWeekPage(_:after:now:)``), and not at all when it has more than `weekLimit` mails: those are
    /// read one at a time, as the mails not kept yet. A delivery still on its way is kept for a second only, as
    /// when read alone; a person without a mail that week, or removed, is not in the read. A failed read is let go
    /// until the next minute, as one too large, and logged: the mail's own read comes next.
    private func readWeek(_ week: ISOWeek, now: Date) {
        let claimed = weekReads.withLock { reads in
            var state = reads[week] ?? WeekReads(since: now)
            if let read = state.read, abs(now.timeIntervalSince(read)) < ttl { return false }
            if abs(now.timeIntervalSince(state.since)) >= 1 { state = WeekReads(since: now, read: state.read) }
            state.misses += 1
            guard state.misses >= weekMisses else {
                reads[week] = state
                return false
            }
            reads = reads.filter { abs(now.timeIntervalSince($0.value.since)) < ttl }
            reads[week] = WeekReads(since: now, read: now)
            return true
        }
        guard claimed, let count = weekRead(week, { try database.weekMailCount(week: week) }), count <= weekLimit
        else { return }
        readWeekPage(week, after: 0, now: now)
    }

    /// The result of one of `week`'s reads together, or `nil` when it failed, which is logged: its mails are then
    /// read one at a time until the week is read again, a minute later.
    private func weekRead<Value>(_ week: ISOWeek, _ read: () throws -> Value) -> Value? {
        do {
            return try read()
        } catch {
            logger.warning(
                """
                reading the deliveries of \(week) together failed (its mails are read one at a time until the next \
                minute): \(error)
                """)
            return nil
        }
    }

    /// Reads and keeps a page of `week`'s mails, those of the ambassadors after `after`, then has the store's
    /// threads read the next: the reads waiting for them go between the pages. Read whole, a week's 5,000 took
    /// 10-20 ms of CPU at once, which the event loops then lacked (a fresh server's first second's p99 rose by
    /// 2-4 ms). Every page is kept as of the week's claim (`now`): a later page's values expire no later than a
    /// minute after it, and a mail on its way read more than a second after it is kept already expired, so read
    /// again on its next hit. A page that does not fit in the cache ends the read (its mails are read one at a
    /// time); the first page kept counts the week's read in the metrics.
    private func readWeekPage(_ week: ISOWeek, after: Int64, now: Date) {
        guard let mails = weekRead(week, { try database.weekMails(week: week, after: after, count: weekPage) }),
            !mails.isEmpty
        else { return }
        let kept = deliveries.keep(
            mails.map {
                (
                    Mail(ambassadorID: $0.ambassadorID, week: week), $0.deliveredAt,
                    Self.lasting($0.deliveredAt, $0.awaited)
                )
            }, now: now)
        guard kept else { return }
        languages.keep(mails.map { ($0.ambassadorID, $0.language, nil) }, now: now)
        if after == 0 { AdvocateMetrics.weekRead() }
        guard mails.count == weekPage, let last = mails.last?.ambassadorID else { return }
        database.perform({ _ in self.readWeekPage(week, after: last, now: now) }, completion: { _ in })
    }

    /// As ``readMail(ambassadorID:week:delivery:language:now:)`` from the caches alone: `nil` when a value asked for
    /// must be read.
    func cachedMail(ambassadorID: Int64, week: ISOWeek, delivery: Bool, language: Bool, now: Date) -> (
        deliveredAt: Date?, language: Language?
    )? {
        let cached = cached(ambassadorID: ambassadorID, week: week, delivery: delivery, language: language, now: now)
        guard let deliveredAt = cached.deliveredAt, let language = cached.language else { return nil }
        return (deliveredAt, language)
    }

    /// What the caches hold of the values asked for (each `nil` when it must be read); a value not asked for is
    /// `.some(nil)`.
    private func cached(ambassadorID: Int64, week: ISOWeek, delivery: Bool, language: Bool, now: Date) -> (
        deliveredAt: Date??, language: Language??
    ) {
        (
            delivery ? cachedDeliveredAt(ambassadorID: ambassadorID, week: week, now: now) : .some(nil),
            language ? cachedLanguage(ambassadorID: ambassadorID, now: now) : .some(nil)
        )
    }

    /// The cached content item: `.some(nil)` when it is known not to exist, `nil` when it must be read.
    func cachedItem(id: Int64, now: Date) -> ContentItem?? { items.fresh(id, now: now) }

    /// The cached language, as ``cachedItem(id:now:)``.
    func cachedLanguage(ambassadorID: Int64, now: Date) -> Language?? { languages.fresh(ambassadorID, now: now) }

    /// Keeps a delivery time read. A delivery still on its way (`awaited`) is kept for a second only: its time is
    /// recorded once the relay has answered, and a scanner at the receiving side may fetch the mail's links before
    /// that; kept for the cache's minute, "not delivered" would hide the delivery time from the rest of its scan.
    private func keepDelivery(_ value: Date?, awaited: Bool, ambassadorID: Int64, week: ISOWeek, now: Date) {
        deliveries.keep(
            value, for: Mail(ambassadorID: ambassadorID, week: week), now: now, lasting: Self.lasting(value, awaited))
    }

    /// How long a delivery time read is kept: a second while it is awaited, else the cache's time.
    private static func lasting(_ value: Date?, _ awaited: Bool) -> TimeInterval? { value == nil && awaited ? 1 : nil }

    /// The cached delivery time, as ``cachedItem(id:now:)``.
    func cachedDeliveredAt(ambassadorID: Int64, week: ISOWeek, now: Date) -> Date?? {
        deliveries.fresh(Mail(ambassadorID: ambassadorID, week: week), now: now)
    }

    /// `url` with its campaign parameters (``UTM/tag(_:source:medium:campaign:)``), made once per address, network,
    /// medium and week: every reader of every post of an item on one network is sent to the same address, and parsing
    /// and rebuilding it was a tenth of a reader's visit.
    public func taggedURL(_ url: String, source: String, medium: String, campaign: String, now: Date) -> String {
        let key = TaggedURL(url: url, source: source, medium: medium, campaign: campaign)
        if let kept = tagged.fresh(key, now: now) { return kept }
        let made = UTM.tag(url, source: source, medium: medium, campaign: campaign)
        tagged.keep(made, for: key, now: now)
        return made
    }

    /// Notes a hit on a link of one mail and returns the mail's earlier hits of the last `window` seconds (this
    /// link's included). Kept in memory only.
    ///
    /// The memory is bounded in two generations of `recentMails / 2` mails each: a mail hit again moves to the
    /// current one, and once it is full the one before is dropped (outside the lock) and the current one becomes it.
    /// So a mail is forgotten only after half the limit of other mails were hit while it was not, never a walk in
    /// progress among them, at no cost per hit beyond a second lookup. (It used to be emptied whole at the limit, and
    /// new mails come with a week's deliveries, when scanners walk them: the hits a walk had made so far were
    /// forgotten in the middle of it.) A mail keeps its last ``hitsPerMail`` hits on its own links and, apart, its
    /// last as many on its posts' links, so that readers of a popular post cannot push a scanner's earlier hits, the
    /// honeypot's among them, out of the mail's memory.
    public func noteMailHit(ambassadorID: Int64, week: ISOWeek, hit: MailHit, window: TimeInterval) -> [MailHit] {
        let key = Mail(ambassadorID: ambassadorID, week: week)
        var dropped: [Mail: [MailHit]] = [:]
        let earlier = recentHits.withLock { hits in
            var list = (hits.current[key] ?? hits.previous.removeValue(forKey: key) ?? []).filter {
                hit.at.timeIntervalSince($0.at) <= window
            }
            // The rules need only the last few hits; a flood on one link must not grow the list or the work.
            for visit in [false, true] {
                var over = list.count { $0.visit == visit } - Self.hitsPerMail
                while over > 0, let oldest = list.firstIndex(where: { $0.visit == visit }) {
                    list.remove(at: oldest)
                    over -= 1
                }
            }
            let earlier = list
            list.append(hit)
            if hits.current[key] == nil, hits.current.count >= max(recentMails / 2, 1) {
                dropped = hits.previous
                hits.previous = hits.current
                hits.current = [:]
            }
            hits.current[key] = list
            return earlier
        }
        // A generation dropped is freed here, after the lock.
        withExtendedLifetime(dropped) {}
        return earlier
    }
}
