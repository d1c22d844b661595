/// The seam between the digest and the links in it. The renderer asks for each link here, so moving from plain
/// share-dialog URLs to tracked `/s/` links changes which value the composition root passes in, nothing else.
public protocol ShareLinks: Sendable {
    /// The address behind the button for sharing `item` on `network`.
    func share(item: ContentItem, network: Network, ambassadorID: Int64, week: ISOWeek) -> String
    /// The one-click unsubscribe address of this ambassador's digest.
    func unsubscribe(ambassadorID: Int64, week: ISOWeek) -> String
    /// The ambassador's own preferences page.
    func preferences(ambassadorID: Int64, week: ISOWeek) -> String
    /// A hidden link only scanners follow, or `nil` when there is no server to catch it.
    func trap(ambassadorID: Int64, week: ISOWeek) -> String?
    /// The same kind of links for a test message: they work, but count nothing and unsubscribe nobody.
    var forTests: any ShareLinks { get }
}

/// Links straight to each network's share dialog (no click counting). Unsubscribe links are still the tracked,
/// personal ones, because an unsubscribe must never be forgeable.
public struct IntentShareLinks: ShareLinks {
    let tracked: TrackedShareLinks

    /// Creates links under `baseURL` (the public address of `advocate serve`).
    public init(baseURL: String, sealer: LinkSealer, test: Bool = false) {
        tracked = TrackedShareLinks(baseURL: baseURL, sealer: sealer, test: test)
    }

    public var forTests: any ShareLinks {
        IntentShareLinks(baseURL: tracked.baseURL, sealer: tracked.sealer, test: true)
    }

    public func share(item: ContentItem, network: Network, ambassadorID: Int64, week: ISOWeek) -> String {
        ShareIntent.url(
            for: network, text: DigestSelection.text(for: item, network: network, ambassadorID: ambassadorID),
            url: item.url, subject: item.title)
    }

    public func unsubscribe(ambassadorID: Int64, week: ISOWeek) -> String {
        tracked.unsubscribe(ambassadorID: ambassadorID, week: week)
    }

    public func preferences(ambassadorID: Int64, week: ISOWeek) -> String {
        tracked.preferences(ambassadorID: ambassadorID, week: week)
    }

    public func trap(ambassadorID: Int64, week: ISOWeek) -> String? { nil }
}
