import AdvocateCore
import Foundation

/// How the digest looks and what it holds beyond the week's content: the brand, the number of items, where to find
/// more, and the disclosure employees add when they post about their employer.
public struct DigestConfig: Sendable, Decodable {
    /// An https image shown next to the organisation's name at the top (about 28 px high).
    public var logoURL: String? = nil
    /// The accent colour (`#RRGGBB`): links, the lead item's bar, the quote's bar. It must be readable on white.
    public var accentColor = "#1d4ed8"
    /// At most this many items per digest; the rest are behind ``moreURL``.
    public var maxItems = 6
    /// Where more content is (the newsroom), linked when a digest leaves items out.
    public var moreURL: String? = nil
    /// Per language, what an employee adds when posting about their employer (e.g. `#medewerker`, `#employee`):
    /// appended to the suggested text where the network takes text, shown on the share page where it does not.
    public var disclosure: [String: String] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case logoURL, accentColor, maxItems, moreURL, disclosure }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for (key, value) in [
            ("logoURL", try c.decodeIfPresent(String.self, forKey: .logoURL)),
            ("moreURL", try c.decodeIfPresent(String.self, forKey: .moreURL)),
        ] {
            guard let value else { continue }
            guard let url = WebURL.validated(value), url.hasPrefix("https://") else {
                throw ConfigError.invalidValue(path: "digest.\(key)", reason: "'\(value)' is not an https URL")
            }
            if key == "logoURL" { logoURL = url } else { moreURL = url }
        }
        accentColor = try c.value(.accentColor, default: accentColor)
        guard let contrast = Self.contrastOnWhite(accentColor) else {
            throw ConfigError.invalidValue(
                path: "digest.accentColor", reason: "'\(accentColor)' is not a colour like #1d4ed8")
        }
        guard contrast >= 4.5 else {
            throw ConfigError.invalidValue(
                path: "digest.accentColor",
                reason:
                    "'\(accentColor)' is too light to read on white (contrast \(String(format: "%.1f", contrast)):1, "
                    + "at least 4.5:1 needed)")
        }
        maxItems = try c.value(.maxItems, default: maxItems)
        guard (1...20).contains(maxItems) else {
            throw ConfigError.invalidValue(path: "digest.maxItems", reason: "must be 1 to 20 (Gmail clips long mails)")
        }
        disclosure = try c.value(.disclosure, default: disclosure)
        for (language, text) in disclosure {
            guard Language(rawValue: language) != nil else {
                throw ConfigError.invalidValue(
                    path: "digest.disclosure.\(language)", reason: "unknown language (use: \(Language.codes))")
            }
            guard !text.isEmpty, text.count <= 40, text.collapsingWhitespace == text else {
                throw ConfigError.invalidValue(
                    path: "digest.disclosure.\(language)", reason: "must be one short line (at most 40 characters)")
            }
        }
    }

    /// The WCAG contrast ratio of `#RRGGBB` against white, or `nil` for anything else.
    static func contrastOnWhite(_ color: String) -> Double? {
        guard color.count == 7, color.hasPrefix("#"), let value = Int(color.dropFirst(), radix: 16) else { return nil }
        func channel(_ shift: Int) -> Double {
            let c = Double((value >> shift) & 0xFF) / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let luminance = 0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
        return 1.05 / (luminance + 0.05)
    }
}
