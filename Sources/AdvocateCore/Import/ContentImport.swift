import Foundation

/// Validates a content JSON file: an array of items such as
/// `{"url": …, "title": …, "summary": …, "image": …, "theme": …, "weeks": ["2026-W49"], "texts": ["…", {"network": "x", "text": "…"}]}`.
public enum ContentImport {
    /// The keys an item may have.
    public static let keys = ["url", "title", "summary", "image", "theme", "week", "weeks", "texts"]

    /// Why the file as a whole could not be read.
    public struct FileError: Error, CustomStringConvertible {
        /// What is wrong.
        public var description: String
    }

    /// Reads and checks every item.
    public static func validate(json data: Data, rules: ImportRules) throws(FileError) -> ImportValidation<
        ContentItem
    > {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw FileError(description: "not valid JSON: \(error.localizedDescription)")
        }
        guard let array = parsed as? [Any] else {
            throw FileError(description: "expected a JSON array of items at the top level")
        }
        let lines = elementLines(String(decoding: data, as: UTF8.self))
        var rows: [ImportRow<ContentItem>] = []
        var problems: [ImportProblem] = []
        var firstLineOfURL: [String: Int] = [:]
        for (index, element) in array.enumerated() {
            let line = index < lines.count ? lines[index] : 1
            guard let object = element as? [String: Any] else {
                problems.append(ImportProblem(line: line, field: nil, message: "item \(index + 1) is not an object"))
                continue
            }
            switch item(object, line: line, rules: rules) {
            case .failure(let problem): problems.append(problem)
            case .success(let item):
                if let first = firstLineOfURL[item.url] {
                    problems.append(
                        ImportProblem(line: line, field: "url", message: "duplicate URL, already on line \(first)"))
                    continue
                }
                firstLineOfURL[item.url] = line
                rows.append(ImportRow(line: line, value: item))
            }
        }
        return ImportValidation(rows: rows, problems: problems)
    }

    /// Builds one item from decoded JSON values, as the import and the `content add` command both do.
    public static func item(_ object: [String: Any], line: Int, rules: ImportRules) -> Result<
        ContentItem, ImportProblem
    > {
        func fail(_ field: String?, _ message: String) -> Result<ContentItem, ImportProblem> {
            .failure(ImportProblem(line: line, field: field, message: message))
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            return fail(unknown, "unknown key (allowed: \(keys.joined(separator: ", ")))")
        }
        func string(_ key: String) -> Result<String?, ImportProblem> {
            guard let value = object[key], !(value is NSNull) else { return .success(nil) }
            guard let text = value as? String else {
                return .failure(ImportProblem(line: line, field: key, message: "must be a string"))
            }
            return .success(text)
        }
        let url: String
        switch string("url") {
        case .failure(let problem): return .failure(problem)
        case .success(let value):
            guard let value, !value.isEmpty else { return fail("url", "is missing") }
            guard let checked = WebURL.validated(value) else {
                return fail("url", "'\(value)' is not an absolute http(s) URL")
            }
            url = checked
        }
        var texts: [String: String] = [:]
        for key in ["title", "summary", "image", "theme"] {
            switch string(key) {
            case .failure(let problem): return .failure(problem)
            case .success(let value): texts[key] = value
            }
        }
        let title = (texts["title"] ?? "").collapsingWhitespace
        guard !title.isEmpty else { return fail("title", "is missing") }
        var image: String? = nil
        if let raw = texts["image"], !raw.isEmpty {
            guard let checked = WebURL.validated(raw) else {
                return fail("image", "'\(raw)' is not an absolute http(s) URL")
            }
            image = checked
        }
        var theme: String? = nil
        if let raw = texts["theme"], !raw.isEmpty {
            switch rules.themes(raw) {
            case .failure(let violation): return fail("theme", violation.message)
            case .success(let themes): theme = themes.first
            }
        }
        var weekTexts: [String] = []
        if let single = object["week"] {
            guard let text = single as? String else { return fail("week", "must be a string like 2026-W49") }
            weekTexts.append(text)
        }
        if let many = object["weeks"] {
            guard let list = many as? [String] else { return fail("weeks", "must be an array of strings") }
            weekTexts += list
        }
        var weeks: [ISOWeek] = []
        for text in weekTexts {
            do {
                let week = try ISOWeek(parsing: text)
                if !weeks.contains(week) { weeks.append(week) }
            } catch { return fail(object["weeks"] != nil ? "weeks" : "week", error.description) }
        }
        if weeks.isEmpty { weeks = [rules.defaultWeek] }
        var suggestions: [SuggestedText] = []
        for entry in object["texts"] as? [Any] ?? [] {
            if let text = entry as? String {
                suggestions.append(SuggestedText(text: text))
            } else if let pair = entry as? [String: Any], let text = pair["text"] as? String {
                var network: Network? = nil
                if let code = pair["network"] as? String {
                    guard let known = Network(rawValue: code.lowercased()) else {
                        return fail("texts", "unknown network '\(code)' (use: \(Network.codes))")
                    }
                    network = known
                }
                suggestions.append(SuggestedText(network: network, text: text))
            } else {
                return fail("texts", "each text is a string or {\"network\": …, \"text\": …}")
            }
        }
        if object["texts"] != nil && !(object["texts"] is [Any]) { return fail("texts", "must be an array") }
        if suggestions.contains(where: { $0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            return fail("texts", "a suggested text is empty")
        }
        return .success(
            ContentItem(
                url: url, title: title, summary: texts["summary"] ?? "", imageURL: image, theme: theme, weeks: weeks,
                texts: suggestions))
    }

    /// The line each top-level array element starts on, found by a small scan that skips strings.
    static func elementLines(_ text: String) -> [Int] {
        var lines: [Int] = []
        var line = 1
        var depth = 0
        var inString = false
        var escaped = false
        var expectingElement = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            let isSpace = byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
            if depth == 1 && expectingElement && !isSpace && byte != UInt8(ascii: "]") {
                lines.append(line)
                expectingElement = false
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { expectingElement = true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectingElement = true }
            default: break
            }
        }
        return lines
    }
}

/// Checks of web addresses that end up in links and redirects.
public enum WebURL {
    /// The URL if it is absolute http or https with a host and no whitespace or control characters.
    public static func validated(_ raw: String) -> String? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
            let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return nil }
        return text
    }
}
