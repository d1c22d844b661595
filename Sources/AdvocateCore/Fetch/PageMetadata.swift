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

    /// A page's own idea of its address if it is plausible: on the same site (`www.` aside), and not the site's
    /// home page for a page that is not (templates that put the home page in `og:url` or a staging host in the
    /// canonical link are common). Else the caller keeps the address it fetched.
    static func plausible(_ candidate: String?, for pageURL: String) -> String? {
        guard let candidate, let claimed = URLComponents(string: candidate), let page = URLComponents(string: pageURL)
        else { return nil }
        func site(_ host: String?) -> String {
            let host = (host ?? "").lowercased()
            return host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
        }
        guard site(claimed.host) == site(page.host) else { return nil }
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

    /// Creates an entry.
    public init(key: String, url: String, title: String, summary: String, imageURL: String?) {
        self.key = key
        self.url = url
        self.title = title
        self.summary = summary
        self.imageURL = imageURL
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
