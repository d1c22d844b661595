import Foundation

/// Personal tracked links served by `advocate serve`: `/s/` share buttons, a hidden `/t/` honeypot and `/u/`
/// unsubscribe. The share redirect puts a `/l/` visit link in the post, so visits the post earns are counted too.
public struct TrackedShareLinks: ShareLinks {
    let baseURL: String
    let sealer: LinkSealer
    /// Links of a test message: they work, but count nothing and unsubscribe nobody.
    let test: Bool

    /// Creates links under `baseURL`.
    public init(baseURL: String, sealer: LinkSealer, test: Bool = false) {
        self.baseURL = baseURL
        self.sealer = sealer
        self.test = test
    }

    public func share(item: ContentItem, network: Network, ambassadorID: Int64, week: ISOWeek) -> String {
        let token = LinkToken(
            kind: .share, ambassadorID: ambassadorID, itemID: item.id ?? 0, network: network, week: week, test: test)
        return "\(baseURL)/s/\(sealer.seal(token))"
    }

    public func unsubscribe(ambassadorID: Int64, week: ISOWeek) -> String {
        let token = LinkToken(kind: .unsubscribe, ambassadorID: ambassadorID, week: week, test: test)
        return "\(baseURL)/u/\(sealer.seal(token))"
    }

    public func preferences(ambassadorID: Int64, week: ISOWeek) -> String {
        let token = LinkToken(kind: .preferences, ambassadorID: ambassadorID, week: week, test: test)
        return "\(baseURL)/p/\(sealer.seal(token))"
    }

    /// The join link of an invitation: it proves the invited address, so the pre-filled form joins at once.
    public func invitation(id: Int64, week: ISOWeek) -> String {
        "\(baseURL)/join?invite=\(sealer.seal(LinkToken(kind: .invite, ambassadorID: id, week: week)))"
    }

    /// An invitation's opt-out link (`/u/`): the person asks never to be invited again.
    public func stopInvitations(invitationID: Int64, week: ISOWeek) -> String {
        let token = LinkToken(kind: .stopInvitations, ambassadorID: invitationID, week: week, test: test)
        return "\(baseURL)/u/\(sealer.seal(token))"
    }

    public func trap(ambassadorID: Int64, week: ISOWeek) -> String? {
        "\(baseURL)/t/\(sealer.seal(LinkToken(kind: .trap, ambassadorID: ambassadorID, week: week, test: test)))"
    }

    public var forTests: any ShareLinks { TrackedShareLinks(baseURL: baseURL, sealer: sealer, test: true) }

    /// The public link for the post itself: counts visits, then goes to the item.
    public func visit(itemID: Int64, network: Network, ambassadorID: Int64, week: ISOWeek, test: Bool = false)
        -> String
    {
        let token = LinkToken(
            kind: .visit, ambassadorID: ambassadorID, itemID: itemID, network: network, week: week, test: test)
        return "\(baseURL)/l/\(sealer.seal(token))"
    }
}

/// Adds campaign parameters to an item's URL, keeping its own query and fragment.
public enum UTM {
    /// `url` with `utm_source`, `utm_medium` and `utm_campaign` set (replacing any it had). The URL's own query
    /// parameters are kept byte for byte, and so is its fragment.
    public static func tag(_ url: String, source: String, medium: String, campaign: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        let names: Set<String> = ["utm_source", "utm_medium", "utm_campaign"]
        var pairs = (components.percentEncodedQuery ?? "").split(separator: "&").map(String.init).filter { pair in
            !names.contains(String(pair.split(separator: "=", maxSplits: 1).first ?? ""))
        }
        pairs += [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)].map {
            "\($0.0)=\(ShareIntent.percentEncode($0.1))"
        }
        components.percentEncodedQuery = pairs.joined(separator: "&")
        return components.string ?? url
    }
}
