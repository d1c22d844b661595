/// The editor's item form, both ways: an item → the fields that fill the form, and posted fields → the same
/// object a JSON import reads (so both are checked by ``ContentImport/item(_:line:rules:)``).
///
/// Field names: `url`, `title`, `summary`, `image`, `theme`, `language`, `prompt`, `weeks` (ISO weeks separated by
/// spaces or commas), and the suggested texts as `texts.all` and `texts.NETWORK`, several texts in one field
/// separated by a line holding only `---`. Each other language `L` has `L.title`, `L.summary`, `L.prompt`,
/// `L.texts.all` and `L.texts.NETWORK`.
public enum ItemForm {
    /// The line between two texts in one field.
    public static let separator = "---"

    /// The fields showing `item`.
    public static func fields(_ item: ContentItem) -> [String: String] {
        var fields: [String: String] = [
            "url": item.url, "title": item.title, "summary": item.summary, "image": item.imageURL ?? "",
            "theme": item.theme ?? "", "language": item.language?.rawValue ?? "", "prompt": item.prompt ?? "",
            "weeks": item.weeks.map(\.description).joined(separator: " "),
        ]
        func put(_ texts: [SuggestedText], prefix: String) {
            for network in [nil] + Network.allCases.map(Optional.some) {
                let chosen = texts.filter { $0.network == network }.map(\.text)
                if !chosen.isEmpty {
                    fields["\(prefix)texts.\(network?.rawValue ?? "all")"] = chosen.joined(
                        separator: "\n\(separator)\n")
                }
            }
        }
        put(item.texts, prefix: "")
        for variant in item.variants {
            let code = variant.language.rawValue
            fields["\(code).title"] = variant.title
            fields["\(code).summary"] = variant.summary
            fields["\(code).prompt"] = variant.prompt ?? ""
            put(variant.texts, prefix: "\(code).")
        }
        return fields
    }

    /// The import object for posted `fields`; the main language's own variant fields are ignored.
    public static func object(_ fields: [String: String], defaultLanguage: Language) -> [String: Any] {
        func value(_ key: String) -> String? {
            guard let text = fields[key]?.trimmingSpaces, !text.isEmpty else { return nil }
            return text
        }
        var object: [String: Any] = [:]
        for key in ["url", "title", "summary", "image", "theme", "language", "prompt"] {
            if let text = value(key) { object[key] = text }
        }
        let weeks = (fields["weeks"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" })
        object["weeks"] = weeks.map(String.init)
        object["texts"] = texts(fields, prefix: "")
        let main = value("language").flatMap(Language.init(rawValue:)) ?? defaultLanguage
        var variants: [String: Any] = [:]
        for language in Language.allCases where language != main {
            let code = language.rawValue
            let texts = texts(fields, prefix: "\(code).")
            let strings = ["title", "summary", "prompt"].compactMap { key in value("\(code).\(key)").map { (key, $0) } }
            guard !strings.isEmpty || !texts.isEmpty else { continue }
            var variant: [String: Any] = Dictionary(uniqueKeysWithValues: strings)
            variant["texts"] = texts
            variants[code] = variant
        }
        if !variants.isEmpty { object["variants"] = variants }
        return object
    }

    private static func texts(_ fields: [String: String], prefix: String) -> [Any] {
        var texts: [Any] = []
        for network in [nil] + Network.allCases.map(Optional.some) {
            let raw = fields["\(prefix)texts.\(network?.rawValue ?? "all")"] ?? ""
            for text in split(raw) {
                if let network {
                    texts.append(["network": network.rawValue, "text": text])
                } else {
                    texts.append(text)
                }
            }
        }
        return texts
    }

    /// The texts of one field: separated by `---` lines, each trimmed, empty ones dropped.
    static func split(_ raw: String) -> [String] {
        var texts: [String] = []
        var current: [Substring] = []
        func flush() {
            let text = current.joined(separator: "\n").trimmingSpaces
            if !text.isEmpty { texts.append(text) }
            current = []
        }
        for line in raw.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        {
            if line.trimmingSpaces == separator { flush() } else { current.append(line) }
        }
        flush()
        return texts
    }
}
