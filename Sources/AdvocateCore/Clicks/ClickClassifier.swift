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

/// An earlier hit of the same mail, as the server remembers it for a few minutes (in memory only).
public struct MailHit: Sendable, Equatable {
    /// When it came.
    public var at: Date
    /// Which link of the mail: its token text's hash (`String.hashValue`, seeded per process), so that a hit holds
    /// no reference. The server keeps tens of thousands of mails' hits and copies a mail's on each of its clicks; a
    /// hit without a reference is copied without retaining and releasing anything.
    public var link: Int
    /// A keyed hash of the client's address and user agent, never stored: tells one client from another.
    public var client: UInt64
    /// Whether it was the mail's hidden link.
    public var trap: Bool
    /// Whether it was a post's link of this mail's shares (not a link of the mail itself).
    public var visit: Bool

    public init(at: Date, link: String, client: UInt64, trap: Bool = false, visit: Bool = false) {
        self.at = at
        self.link = link.hashValue
        self.client = client
        self.trap = trap
        self.visit = visit
    }
}

/// Everything known about a hit when it arrives. Only the verdict is stored, never the agent or the address.
public struct Hit: Sendable {
    public var method: String
    public var userAgent: String?
    public var at: Date
    /// What kind of link: share buttons and the honeypot belong to a mail, visit links to a public post.
    public var kind: LinkToken.Kind
    /// The network of the share or post.
    public var network: Network?
    /// When this mail was delivered (share and trap links).
    public var deliveredAt: Date?
    /// The name of the documented mail-security network the client address lies in, if any.
    public var scannerNetwork: String?
    /// This link's token text.
    public var link: String
    /// This client (see ``MailHit/client``).
    public var client: UInt64
    /// Recent earlier hits on links of the same mail, this link included (share and trap links).
    public var mailHits: [MailHit]

    public init(
        method: String, userAgent: String?, at: Date, kind: LinkToken.Kind, network: Network? = nil,
        deliveredAt: Date? = nil, scannerNetwork: String? = nil, link: String = "", client: UInt64 = 0,
        mailHits: [MailHit] = []
    ) {
        self.method = method
        self.userAgent = userAgent
        self.at = at
        self.kind = kind
        self.network = network
        self.deliveredAt = deliveredAt
        self.scannerNetwork = scannerNetwork
        self.link = link
        self.client = client
        self.mailHits = mailHits
    }
}

/// The outcome for one hit: its verdict, and what it reveals about earlier hits.
public struct Judgement: Sendable, Equatable {
    /// This hit's class and reason.
    public var verdict: ClickVerdict
    /// Earlier hits of the same client on the same mail (their moments) turn out to be a scanner's too: the
    /// honeypot, a burst, a paced walk over the mail's links.
    public var taints: [Date]
    /// The earlier hit on this very link (at this moment) was the mail gateway's time-of-click check.
    public var checkBefore: Date?
    /// A visit that confirms its share: the network fetched the post's link for its preview (`preview`), or a
    /// person read it (`reader`).
    public var confirms: String?

    public init(
        _ verdict: ClickVerdict, taints: [Date] = [], checkBefore: Date? = nil, confirms: String? = nil
    ) {
        self.verdict = verdict
        self.taints = taints
        self.checkBefore = checkBefore
        self.confirms = confirms
    }
}

/// Separates people from machines, rule by rule (see README, "Click truth"). The rules follow what scanners and
/// mail providers document: link scanners fetch at or right after delivery, walk several links of a mail (the
/// hidden one too, or a few at a steady pace), identify themselves or run from their operators' networks, and a
/// gateway's time-of-click check fetches a link a moment before the person's browser does. People click one or two
/// buttons, each followed by the time it takes to write a post. Networks fetch a post's link for its preview when
/// the person opens the composer with it, which no scanner causes.
public struct ClickClassifier: Sendable {
    /// A hit this soon after the mail was delivered is a scanner: people do not click that fast.
    public var afterDeliverySeconds: TimeInterval = 15
    /// Different links of one mail hit within this window: a scanner following every link.
    public var burstSeconds: TimeInterval = 2
    /// Two hits on the same link this close together: a time-of-click check and the person (different clients),
    /// or a double click (the same client).
    public var timeOfClickSeconds: TimeInterval = 2
    /// Three or more different links of one mail, each within this many seconds of the previous one: a paced scan.
    /// A person needs longer than this to post a share before clicking the next button.
    public var pacedGapSeconds: TimeInterval = 10

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

    /// Which crawlers fetch a post's link for each network's preview (the composer, or the sender's app).
    static let previewers: [Network: [String]] = [
        .linkedin: ["linkedinbot"], .x: ["twitterbot"], .facebook: ["facebookexternalhit", "meta-externalagent"],
        .threads: ["facebookexternalhit", "meta-externalagent", "threads"], .whatsapp: ["whatsapp"],
        .bluesky: ["cardyb", "bluesky"], .telegram: ["telegrambot"],
        .mastodon: ["mastodon", "pleroma", "akkoma", "misskey", "gotosocial"],
    ]

    /// Classifies one hit.
    public func judge(_ hit: Hit) -> Judgement {
        // Hits of this same client on this mail: one scanner walks a mail from one place with one agent, while a
        // person reading the same mail at that moment is another client.
        let isRecent = { (earlier: MailHit) in
            hit.at.timeIntervalSince(earlier.at) >= 0 && (hit.kind == .visit || !earlier.visit)
        }
        let mine = hit.mailHits.filter { $0.client == hit.client && isRecent($0) }
        // The honeypot first, whatever the method: a scanner that checks it with HEAD and fetched the buttons with
        // GET has revealed those GETs too.
        if hit.kind == .trap {
            return Judgement(ClickVerdict(.scanner, "honeypot link"), taints: mine.filter { !$0.trap }.map(\.at))
        }
        if hit.method == "HEAD" || hit.method == "head" { return Judgement(ClickVerdict(.scanner, "HEAD request")) }
        // Byte-level, ASCII case-insensitive matching: this runs for every click.
        let agent = (hit.userAgent ?? "").utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
        if agent.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return Judgement(ClickVerdict(.scanner, "no user agent")) }
        let found = Self.firstPatterns(in: agent)
        if let index = found.scanner {
            return Judgement(ClickVerdict(.scanner, "user agent: \(Self.scanners[index])"))
        }
        if let index = found.crawler {
            let name = Self.crawlers[index]
            if hit.kind == .visit, let network = hit.network,
                let bots = Self.previewers[network], bots.contains(where: { Self.contains(agent, Array($0.utf8)) })
            {
                return Judgement(ClickVerdict(.crawler, "preview: \(name)"), confirms: "preview")
            }
            return Judgement(ClickVerdict(.crawler, "user agent: \(name)"))
        }
        if let network = hit.scannerNetwork {
            return Judgement(ClickVerdict(.scanner, "network: \(network)"))
        }
        guard hit.kind == .share else {
            // A post's link opened by a client that just opened this mail's own links is not a reader: a scanner
            // following the address inside a share button's redirect, or the sharer looking at their own post.
            if let opened = mine.filter({ !$0.visit }).map(\.at).max() {
                if hit.at.timeIntervalSince(opened) <= pacedGapSeconds {
                    return Judgement(ClickVerdict(.scanner, "followed from the mail's links"))
                }
                return Judgement(ClickVerdict(.human, "the sharer's own visit"))
            }
            // A post's link from a browser: a reader (reloads and double clicks are readers too; unique readers
            // are counted apart).
            return Judgement(ClickVerdict(.human, "browser"), confirms: "reader")
        }
        if let deliveredAt = hit.deliveredAt, hit.at.timeIntervalSince(deliveredAt) >= 0,
            hit.at.timeIntervalSince(deliveredAt) < afterDeliverySeconds
        {
            return Judgement(ClickVerdict(.scanner, "within \(Int(afterDeliverySeconds)) s of delivery"))
        }
        if mine.contains(where: \.trap) {
            return Judgement(ClickVerdict(.scanner, "after the honeypot link"), taints: mine.map(\.at))
        }
        // The rules below tell this hit's link from the others' (remembered as the hash of its text).
        let link = hit.link.hashValue
        let burst = mine.filter { $0.link != link && hit.at.timeIntervalSince($0.at) <= burstSeconds }
        if !burst.isEmpty {
            return Judgement(
                ClickVerdict(.scanner, "several links of one mail within \(Int(burstSeconds)) s"),
                taints: burst.map(\.at))
        }
        if let walk = pacedWalk(mine, hit, link: link) {
            return Judgement(
                ClickVerdict(.scanner, "paced: \(walk.links) links of one mail in \(Int(walk.seconds.rounded())) s"),
                taints: walk.hits)
        }
        if let previous = hit.mailHits.filter({
            $0.link == link && isRecent($0) && hit.at.timeIntervalSince($0.at) <= timeOfClickSeconds
        })
        .max(by: { $0.at < $1.at }) {
            if previous.client != hit.client {
                return Judgement(ClickVerdict(.human, "after a time-of-click check"), checkBefore: previous.at)
            }
            return Judgement(ClickVerdict(.human, "double click"))
        }
        return Judgement(ClickVerdict(.human, "browser"))
    }

    /// Three or more different links, each within ``pacedGapSeconds`` of the one before, ending with this hit
    /// (whose link is `link`).
    private func pacedWalk(_ recent: [MailHit], _ hit: Hit, link: Int) -> (
        links: Int, seconds: TimeInterval, hits: [Date]
    )? {
        // No walk without two other links among the hits: most clicks (a person's, or a link fetched again) end here.
        guard let other = recent.first(where: { $0.link != link })?.link,
            recent.contains(where: { $0.link != link && $0.link != other })
        else { return nil }
        var links: Set<Int> = [link]
        var hits: [Date] = []
        var last = hit.at
        for previous in recent.sorted(by: { $0.at > $1.at }) {
            guard last.timeIntervalSince(previous.at) <= pacedGapSeconds else { break }
            links.insert(previous.link)
            hits.append(previous.at)
            last = previous.at
        }
        guard links.count >= 3 else { return nil }
        return (links.count, hit.at.timeIntervalSince(last), hits)
    }

    /// Classifies one request the simple way (no mail context beyond the times of other links' hits).
    public func classify(
        method: String, userAgent: String?, at time: Date, deliveredAt: Date?, otherLinksOfMail: [Date]
    ) -> ClickVerdict {
        judge(
            Hit(
                method: method, userAgent: userAgent, at: time, kind: .share, deliveredAt: deliveredAt,
                link: "this", mailHits: otherLinksOfMail.map { MailHit(at: $0, link: "other", client: 0) })
        ).verdict
    }

    /// Every scanner and crawler pattern under its first byte, with its list and its place in that list.
    static let patternsByFirstByte: [[(pattern: [UInt8], isScanner: Bool, index: Int)]] = {
        var table = Array(repeating: [(pattern: [UInt8], isScanner: Bool, index: Int)](), count: 256)
        for (isScanner, patterns) in [(true, scannerPatterns), (false, crawlerPatterns)] {
            for (index, pattern) in patterns.enumerated() { table[Int(pattern[0])].append((pattern, isScanner, index)) }
        }
        return table
    }()

    /// The first scanner and the first crawler pattern, in list order, that occur in `agent` (lower-case bytes): what
    /// searching for each pattern in turn finds, in one pass over the agent that tries only the patterns starting
    /// with the byte at hand (this runs for every click).
    static func firstPatterns(in agent: [UInt8]) -> (scanner: Int?, crawler: Int?) {
        var scanner = Int.max
        var crawler = Int.max
        for start in agent.indices {
            for candidate in patternsByFirstByte[Int(agent[start])]
            where candidate.index < (candidate.isScanner ? scanner : crawler) {
                let pattern = candidate.pattern
                guard start + pattern.count <= agent.count else { continue }
                var offset = 1
                while offset < pattern.count && agent[start + offset] == pattern[offset] { offset += 1 }
                guard offset == pattern.count else { continue }
                if candidate.isScanner { scanner = candidate.index } else { crawler = candidate.index }
            }
        }
        return (scanner == .max ? nil : scanner, crawler == .max ? nil : crawler)
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
