import AdvocateCore
import Foundation

/// `advocate content fetch`: reads every configured feed (conditional GET), adds the entries it has not seen as
/// items of a week or as drafts. Each feed is loaded in its own transaction, so a broken feed is reported and the
/// others still load; running it again (from cron) adds nothing twice. The first fetch of a feed adds its back
/// catalogue as drafts (unless a week is named), so that adding a feed never mails fifty old posts.
public struct FeedLoader: Sendable {
    /// Where a run puts new entries.
    public enum Target: Sendable, Hashable {
        /// Each feed's own setting: next week, or drafts.
        case configured
        /// Every new entry into this week.
        case week(ISOWeek)
        /// Every new entry as a draft.
        case drafts
    }

    /// What happened to one feed.
    public struct Report: Sendable, Codable, Hashable {
        /// The feed.
        public var url: String
        /// `loaded`, `unchanged` or `failed`.
        public var outcome: String
        /// Items added.
        public var added: Int
        /// Entries in the feed.
        public var entries: Int
        /// Why it failed.
        public var error: String?
        /// The feed's first fetch: its entries became drafts.
        public var firstFetch = false
    }

    let database: AppDatabase
    let fetcher: PageFetcher
    let feeds: [FeedConfig]
    let nextWeek: ISOWeek
    let now: @Sendable () -> Date

    /// Creates a loader; `nextWeek` is where `week` feeds put new entries.
    public init(
        database: AppDatabase, fetcher: PageFetcher, feeds: [FeedConfig], nextWeek: ISOWeek,
        now: @escaping @Sendable () -> Date
    ) {
        self.database = database
        self.fetcher = fetcher
        self.feeds = feeds
        self.nextWeek = nextWeek
        self.now = now
    }

    /// How old an entry may be, by its own date, and still be scheduled for next week.
    static let recentDays = 14.0

    /// Loads every feed; never throws for one feed's failure (see ``Report/error``).
    public func run(target: Target = .configured) -> [Report] {
        feeds.map { feed in
            do {
                return try load(feed, target: target)
            } catch {
                let reason = (error as? FetchError)?.reason ?? "\(error)"
                try? database.noteFeedFailure(url: feed.url, reason: reason, now: now())
                return Report(url: feed.url, outcome: "failed", added: 0, entries: 0, error: reason)
            }
        }
    }

    private func load(_ feed: FeedConfig, target: Target) throws -> Report {
        let stored = try database.feedValidators(url: feed.url)
        let page: FetchedPage
        switch try fetcher.fetch(feed.url, etag: stored.etag, lastModified: stored.lastModified) {
        case .notModified:
            try database.noteFeedUnchanged(url: feed.url, now: now())
            return Report(url: feed.url, outcome: "unchanged", added: 0, entries: 0)
        case .page(let value): page = value
        }
        let entries: [FeedEntry]
        do { entries = try MarkupParser.feedEntries(xml: page.body, feedURL: page.url) } catch {
            throw FetchError(url: feed.url, reason: error.description)
        }
        let first = try !database.feedKnown(url: feed.url)
        let weeks: [ISOWeek] =
            switch target {
            case .configured: feed.schedule == .draft || first ? [] : [nextWeek]
            case .week(let week): [week]
            case .drafts: []
            }
        // An entry new to Advocate but published long ago (a site that changed its links or ids republishes its
        // back catalogue) is a draft, not next week's: only a named --week schedules such entries.
        let cutoff = now().addingTimeInterval(-Self.recentDays * 86_400)
        let items = entries.map { entry in
            let old = target == .configured && (entry.published.map { $0 < cutoff } ?? false)
            return (
                entry,
                ContentItem(
                    url: entry.url, title: entry.title, summary: entry.summary, imageURL: entry.imageURL,
                    theme: feed.theme, weeks: old ? [] : weeks, language: feed.language)
            )
        }
        let added = try database.loadFeed(
            url: feed.url, entries: items,
            validators: FeedValidators(etag: page.etag, lastModified: page.lastModified), now: now())
        return Report(
            url: feed.url, outcome: "loaded", added: added, entries: entries.count,
            firstFetch: first && target == .configured)
    }
}
