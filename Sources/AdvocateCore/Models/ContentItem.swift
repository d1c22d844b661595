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
        self.text = text.withoutSlotMarkers
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
    /// Weeks in which the item is offered; none makes it a draft the editor still has to schedule.
    public var weeks: [ISOWeek]
    /// Suggested post texts; rotated per ambassador.
    public var texts: [SuggestedText]
    /// The language of ``title``, ``summary``, ``prompt`` and ``texts``; `nil` means the programme's default.
    public var language: Language?
    /// An "in your own words" question shown above the ready-made text.
    public var prompt: String?
    /// The same item in other languages.
    public var variants: [ContentVariant]

    /// Creates a content item.
    public init(
        id: Int64? = nil, url: String, title: String, summary: String = "", imageURL: String? = nil,
        theme: String? = nil, weeks: [ISOWeek], texts: [SuggestedText] = [], language: Language? = nil,
        prompt: String? = nil, variants: [ContentVariant] = []
    ) {
        self.id = id
        self.url = url
        self.title = title.withoutSlotMarkers
        self.summary = summary.withoutSlotMarkers
        self.imageURL = imageURL
        self.theme = theme
        self.weeks = weeks
        self.texts = texts
        self.language = language
        self.prompt = prompt?.withoutSlotMarkers
        self.variants = variants
    }

    /// The variant written in `language`, if there is one (never one of the main language).
    public func variant(_ language: Language) -> ContentVariant? {
        guard language != self.language else { return nil }
        return variants.first { $0.language == language }
    }

    /// The item as a reader of `language` gets it: the variant's title, summary, prompt and texts where it has
    /// them, the main language's where it does not.
    public func localized(for language: Language) -> ContentItem {
        guard let variant = variant(language) else { return self }
        var copy = self
        if !variant.title.isEmpty { copy.title = variant.title }
        if !variant.summary.isEmpty { copy.summary = variant.summary }
        if let prompt = variant.prompt, !prompt.isEmpty { copy.prompt = prompt }
        if !variant.texts.isEmpty { copy.texts = variant.texts }
        copy.language = language
        copy.variants = []
        return copy
    }
}

/// An item's title, summary, prompt and suggested texts in one more language.
public struct ContentVariant: Sendable, Codable, Hashable {
    /// The language these texts are written in.
    public var language: Language
    /// Headline in this language; empty falls back to the main one.
    public var title: String
    /// Description in this language; empty falls back to the main one.
    public var summary: String
    /// "In your own words" question in this language.
    public var prompt: String?
    /// Suggested texts in this language; none falls back to the main ones.
    public var texts: [SuggestedText]

    /// Creates a variant.
    public init(
        language: Language, title: String, summary: String = "", prompt: String? = nil, texts: [SuggestedText] = []
    ) {
        self.language = language
        self.title = title.withoutSlotMarkers
        self.summary = summary.withoutSlotMarkers
        self.prompt = prompt?.withoutSlotMarkers
        self.texts = texts
    }
}
