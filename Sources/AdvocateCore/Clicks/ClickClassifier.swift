import Foundation

/// Who most likely made a request to a tracked link.
public enum ClickClass: String, Sendable, Codable, CaseIterable {
    /// A person.
    case human
    /// A social network or chat app fetching a link preview.
    case crawler
    /// A mail security scanner or other automated checker.
    case scanner
}

/// A classification and the rule that gave it, stored with each click so that the figures can be explained.
public struct ClickVerdict: Sendable, Equatable {
    public var classification: ClickClass
    public var reason: String

    public init(_ classification: ClickClass, _ reason: String) {
        self.classification = classification
        self.reason = reason
    }
}

/// Separates people from machines. Only the verdict is stored, never the user agent itself.
public struct ClickClassifier: Sendable {
    /// A hit this soon after the mail was delivered is a scanner: people do not click that fast.
    public var afterDeliverySeconds: TimeInterval = 15
    /// Different links of one mail hit within this window: a scanner following every link.
    public var burstSeconds: TimeInterval = 2

    /// Creates a classifier.
    public init() {}

    static let crawlerPatterns = crawlers.map { Array($0.utf8) }
    static let scannerPatterns = scanners.map { Array($0.utf8) }

    static let crawlers = [
        "linkedinbot", "facebookexternalhit", "facebookcatalog", "meta-externalagent", "twitterbot", "slackbot",
        "slack-imgproxy", "whatsapp", "telegrambot", "discordbot", "mastodon", "pleroma", "akkoma", "misskey",
        "friendica", "gotosocial", "bluesky", "cardyb", "googlebot", "google-inspectiontool", "bingbot", "applebot",
        "duckduckbot", "yandex", "baiduspider", "embedly", "skypeuripreview", "redditbot", "pinterest", "iframely",
        "threads", "bot/", "bot;", "crawler", "spider", "preview",
    ]
    static let scanners = [
        "headlesschrome", "phantomjs", "python-requests", "python-urllib", "aiohttp", "go-http-client", "java/",
        "okhttp", "libwww", "wget", "curl/", "barracuda", "mimecast", "proofpoint", "forcepoint", "trendmicro",
        "symantec", "microsoft office", "ms-office", "safelinks", "bingpreview",
    ]

    /// Classifies one request. `otherLinksOfMail` are the recent hits on *other* links of the same mail (share and
    /// trap links only; visit links come from the public and are not part of a mail).
    public func classify(
        method: String, userAgent: String?, at time: Date, deliveredAt: Date?, otherLinksOfMail: [Date]
    ) -> ClickVerdict {
        if method == "HEAD" || method == "head" { return ClickVerdict(.scanner, "HEAD request") }
        // Byte-level, ASCII case-insensitive matching: this runs for every click.
        let agent = (userAgent ?? "").utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
        if agent.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return ClickVerdict(.scanner, "no user agent") }
        if let index = Self.scannerPatterns.firstIndex(where: { Self.contains(agent, $0) }) {
            return ClickVerdict(.scanner, "user agent: \(Self.scanners[index])")
        }
        if let index = Self.crawlerPatterns.firstIndex(where: { Self.contains(agent, $0) }) {
            return ClickVerdict(.crawler, "user agent: \(Self.crawlers[index])")
        }
        if let deliveredAt, time.timeIntervalSince(deliveredAt) >= 0,
            time.timeIntervalSince(deliveredAt) < afterDeliverySeconds
        {
            return ClickVerdict(.scanner, "within \(Int(afterDeliverySeconds)) s of delivery")
        }
        if otherLinksOfMail.contains(where: { abs($0.timeIntervalSince(time)) <= burstSeconds }) {
            return ClickVerdict(.scanner, "several links of one mail within \(Int(burstSeconds)) s")
        }
        return ClickVerdict(.human, "browser")
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return needle.isEmpty }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var offset = 1
                while offset < needle.count && haystack[index + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            index += 1
        }
        return false
    }
}
