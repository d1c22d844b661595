/// Which items an ambassador gets and which suggested text they see: pure rules shared by the digest renderer and
/// the click server (which must pick the same text again when a share button is clicked).
public enum DigestSelection {
    /// The week's items for an ambassador's themes, in the given order and in their language; all items when they
    /// chose no themes. Items without a theme go to everyone.
    public static func items(_ items: [ContentItem], for ambassador: Ambassador) -> [ContentItem] {
        let chosen =
            ambassador.themes.isEmpty
            ? items : items.filter { item in item.theme.map(ambassador.themes.contains) ?? true }
        return chosen.map { $0.localized(for: ambassador.language) }
    }

    /// The suggested text shown on the item card: the general texts rotate per ambassador so that colleagues do not
    /// all post the same words. Empty when the item has no text.
    public static func text(for item: ContentItem, ambassadorID: Int64) -> String {
        let general = item.texts.filter { $0.network == nil }
        let pool = general.isEmpty ? item.texts : general
        return pick(pool, ambassadorID: ambassadorID, itemID: item.id ?? 0)
    }

    /// The text for one network's share dialog: a text written for that network when there is one (rotated the
    /// same way), otherwise the card's text.
    public static func text(for item: ContentItem, network: Network, ambassadorID: Int64) -> String {
        let specific = item.texts.filter { $0.network == network }
        if specific.isEmpty { return text(for: item, ambassadorID: ambassadorID) }
        return pick(specific, ambassadorID: ambassadorID, itemID: item.id ?? 0)
    }

    private static func pick(_ pool: [SuggestedText], ambassadorID: Int64, itemID: Int64) -> String {
        guard !pool.isEmpty else { return "" }
        // Consecutive ambassadors get consecutive texts; a different item starts the rotation elsewhere.
        let index = Int((UInt64(bitPattern: ambassadorID) &+ UInt64(bitPattern: itemID)) % UInt64(pool.count))
        return pool[index].text
    }
}
