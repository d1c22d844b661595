import Foundation

/// A suggested post text, optionally for one network only.
public struct SuggestedText: Sendable, Codable, Hashable {
    /// The network this text is written for; `nil` means any network.
    public var network: Network?
    /// The text itself, in the ambassador's voice.
    public var text: String

    /// Creates a suggested text.
    public init(network: Network? = nil, text: String) {
        self.network = network
        self.text = text
    }
}

/// A piece of company content to be shared in one or more ISO weeks.
public struct ContentItem: Sendable, Codable, Hashable {
    /// The store's identifier; `nil` before the item is saved.
    public var id: Int64?
    /// The page the posts link to.
    public var url: String
    /// Headline shown in the digest.
    public var title: String
    /// Short description shown under the title.
    public var summary: String
    /// Optional image shown on the card.
    public var imageURL: String?
    /// Optional theme; ambassadors with themes only get items of their themes.
    public var theme: String?
    /// Weeks in which the item is offered.
    public var weeks: [ISOWeek]
    /// Suggested post texts; rotated per ambassador.
    public var texts: [SuggestedText]

    /// Creates a content item.
    public init(
        id: Int64? = nil, url: String, title: String, summary: String = "", imageURL: String? = nil,
        theme: String? = nil, weeks: [ISOWeek], texts: [SuggestedText] = []
    ) {
        self.id = id
        self.url = url
        self.title = title
        self.summary = summary
        self.imageURL = imageURL
        self.theme = theme
        self.weeks = weeks
        self.texts = texts
    }
}
