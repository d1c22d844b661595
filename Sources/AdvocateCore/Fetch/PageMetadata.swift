import Foundation

/// What a page says about itself, chosen the way link previews do: OpenGraph first, then Twitter cards, then plain
/// HTML (`<title>`, `<meta name="description">`, `<link rel="canonical">`).
public struct PageMetadata: Sendable, Hashable, Codable {
    /// Headline.
    public var title: String?
    /// Short description.
    public var summary: String?
    /// Absolute image URL.
    public var imageURL: String?
    /// The page's own idea of its address (absolute) when plausible (``plausible(_:for:)``); else the address it
    /// was fetched from.
    public var canonicalURL: String

    /// Picks from a page's `<meta>` values (keys lowercased `property` or `name`, first value kept), its `<title>`
    /// and its canonical link; relative URLs are resolved against `pageURL`.
    public init(meta: [String: String], documentTitle: String?, canonicalLink: String?, pageURL: String) {
        func first(_ keys: String...) -> String? {
            for key in keys {
                if let value = meta[key]?.collapsingWhitespace, !value.isEmpty { return value }
            }
            return nil
        }
        func absolute(_ raw: String?) -> String? {
            guard let raw, !raw.isEmpty,
                let resolved = URL(string: raw.trimmingCharacters(in: .whitespaces), relativeTo: URL(string: pageURL))
            else { return nil }
            return WebURL.validated(resolved.absoluteString)
        }
        title = first("og:title", "twitter:title") ?? documentTitle?.collapsingWhitespace.nilIfEmpty
        summary = first("og:description", "twitter:description", "description").map { Self.shortened($0) }
        imageURL = absolute(
            first("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"))
        canonicalURL =
            Self.plausible(absolute(canonicalLink), for: pageURL)
            ?? Self.plausible(absolute(first("og:url")), for: pageURL) ?? pageURL
    }

    /// A page's own idea of its address if it is plausible: on the same site (`www.` aside, or a subdomain of the
    /// other's host: `m.`, `amp.`), and not the site's
    /// home page for a page that is not (templates that put the home page in `og:url` or a staging host in the
    /// canonical link are common). Else the caller keeps the address it fetched.
    static func plausible(_ candidate: String?, for pageURL: String) -> String? {
        guard let candidate, let claimed = URLComponents(string: candidate), let page = URLComponents(string: pageURL)
        else { return nil }
        func site(_ host: String?) -> String {
            let host = (host ?? "").lowercased()
            return host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
        }
        // One site: the same host, or one a subdomain of the other (m., amp., news. beside www. or the bare name).
        let (claimedSite, pageSite) = (site(claimed.host), site(page.host))
        guard
            !claimedSite.isEmpty && !pageSite.isEmpty
                && (claimedSite == pageSite || claimedSite.hasSuffix("." + pageSite)
                    || pageSite.hasSuffix("." + claimedSite))
        else { return nil }
        let home = { (path: String) in path.isEmpty || path == "/" }
        return home(claimed.path) && !home(page.path) ? nil : candidate
    }

    /// Creates metadata from parts.
    public init(title: String?, summary: String?, imageURL: String?, canonicalURL: String) {
        self.title = title
        self.summary = summary
        self.imageURL = imageURL
        self.canonicalURL = canonicalURL
    }

    /// At most `limit` characters, cut at a word with an ellipsis.
    public static func shortened(_ text: String, limit: Int = 300) -> String {
        guard text.count > limit else { return text }
        let cut = text.prefix(limit)
        let end = cut.lastIndex(of: " ") ?? cut.endIndex
        return String(cut[..<end]).trimmingCharacters(in: .punctuationCharacters.union(.whitespaces)) + "…"
    }
}

/// One entry of an RSS 2.0 or Atom feed.
public struct FeedEntry: Sendable, Hashable {
    /// guid (RSS) or id (Atom); else the link.
    public var key: String
    /// The entry's page.
    public var url: String
    /// Headline.
    public var title: String
    /// Plain-text description.
    public var summary: String
    /// An image from an enclosure or Media RSS, if any.
    public var imageURL: String?
    /// When it was published, if the feed says (``FeedDate``).
    public var published: Date?

    /// Creates an entry.
    public init(
        key: String, url: String, title: String, summary: String, imageURL: String?, published: Date? = nil
    ) {
        self.key = key
        self.url = url
        self.title = title
        self.summary = summary
        self.imageURL = imageURL
        self.published = published
    }
}

/// The dates feeds carry: RFC 822 in RSS (`Wed, 02 Dec 2026 09:30:00 +0100`, zone names, two-digit years and
/// all), RFC 3339 in Atom and `dc:date` (`2026-12-02T09:30:00Z`, fractions allowed).
public enum FeedDate {
    /// The moment `text` names, or `nil` when it is in neither form or not plausible for a post (before 1990).
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let iso = ISO8601DateFormatter()
        if let date = iso.date(from: trimmed) { return plausible(date) }
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = iso.date(from: trimmed) { return plausible(date) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        // Without the weekday (optional in RFC 822), with or without seconds; the year's pattern by its digits
        // (a four-digit pattern reads `26` as the year 26).
        let core = (trimmed.firstIndex(of: ",").map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed)
            .trimmingCharacters(in: .whitespaces)
        let parts = core.split(separator: " ")
        let year = parts.count > 2 && parts[2].count == 2 ? "yy" : "yyyy"
        for time in ["HH:mm:ss", "HH:mm"] {
            for zone in ["Z", "zzz"] {
                formatter.dateFormat = "d MMM \(year) \(time) \(zone)"
                if let date = formatter.date(from: core) { return plausible(date) }
            }
        }
        return nil
    }

    /// Dates before 1990 are a feed's mistake (or a year misread), not a post's age.
    private static func plausible(_ date: Date) -> Date? {
        date.timeIntervalSince1970 >= 631_152_000 ? date : nil
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
