import Foundation

/// Validates a content JSON file: an array of items such as
/// `{"url": …, "title": …, "summary": …, "image": …, "theme": …, "weeks": ["2026-W49"], "texts": ["…", {"network": "x", "text": "…"}],
/// "language": "nl", "prompt": …, "variants": {"en": {"title": …, "summary": …, "prompt": …, "texts": […]}}}`.
/// An explicit empty `weeks` makes a draft.
public enum ContentImport {
    /// The keys an item may have.
    public static let keys = [
        "url", "title", "summary", "image", "theme", "week", "weeks", "texts", "language", "prompt", "variants",
    ]
    /// The keys a variant may have.
    public static let variantKeys = ["title", "summary", "prompt", "texts"]

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
            // Foundation's own description says where ("around character 53"), which is told as a line and column;
            // the localized one says nothing of where.
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw FileError(
                description: "not valid JSON: \(detail.map { located($0, in: data) } ?? error.localizedDescription)")
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
                // No week named: a new item goes to the default week, a known one keeps its weeks.
                let blank: Set<String> = object["week"] == nil && object["weeks"] == nil ? ["weeks"] : []
                rows.append(ImportRow(line: line, value: item, blank: blank))
            }
        }
        return ImportValidation(rows: rows, problems: problems)
    }

    /// A JSON parser's message with the line and column of the "character N" (a byte offset) it names put first.
    static func located(_ message: String, in data: Data) -> String {
        guard let range = message.range(of: "character "),
            let offset = Int(message[range.upperBound...].prefix { $0.isNumber }), offset <= data.count
        else { return message }
        let before = data.prefix(offset)
        let line = before.count { $0 == 0x0A } + 1
        let column = offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        return "line \(line), column \(column): \(message)"
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
            guard !text.containsNUL else { return .failure(ImportProblem(line: line, field: key, message: nulMessage)) }
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
        if weeks.isEmpty && object["weeks"] == nil { weeks = [rules.defaultWeek] }
        let suggestions: [SuggestedText]
        switch suggestedTexts(object["texts"], field: "texts", line: line) {
        case .failure(let problem): return .failure(problem)
        case .success(let value): suggestions = value
        }
        var language: Language? = nil
        if let raw = object["language"], !(raw is NSNull) {
            guard let code = raw as? String, let known = Language(rawValue: code.lowercased()) else {
                return fail("language", "unknown language (use: \(Language.codes))")
            }
            language = known
        }
        let prompt: String?
        switch string("prompt") {
        case .failure(let problem): return .failure(problem)
        case .success(let value): prompt = value.map(\.collapsingWhitespace).flatMap { $0.isEmpty ? nil : $0 }
        }
        let variants: [ContentVariant]
        switch self.variants(object["variants"], main: language ?? rules.defaultLanguage, line: line) {
        case .failure(let problem): return .failure(problem)
        case .success(let value): variants = value
        }
        return .success(
            ContentItem(
                url: url, title: title, summary: texts["summary"] ?? "", imageURL: image, theme: theme, weeks: weeks,
                texts: suggestions, language: language, prompt: prompt, variants: variants))
    }

    /// Why a text holding U+0000 is refused: neither a mail nor PostgreSQL can carry it (SQLite would store it, and
    /// the two stores would differ).
    static let nulMessage = "contains a NUL character (U+0000), which neither mail nor PostgreSQL can carry"

    /// `"texts": ["…", {"network": "x", "text": "…"}]`.
    public static func suggestedTexts(_ value: Any?, field: String, line: Int) -> Result<[SuggestedText], ImportProblem>
    {
        func fail(_ message: String) -> Result<[SuggestedText], ImportProblem> {
            .failure(ImportProblem(line: line, field: field, message: message))
        }
        guard let value, !(value is NSNull) else { return .success([]) }
        guard let entries = value as? [Any] else { return fail("must be an array") }
        var suggestions: [SuggestedText] = []
        for entry in entries {
            if let text = entry as? String {
                suggestions.append(SuggestedText(text: text))
            } else if let pair = entry as? [String: Any], let text = pair["text"] as? String {
                // A misspelt key ("netwrk") would make a network's text everyone's without a word.
                if let unknown = pair.keys.sorted().first(where: { $0 != "network" && $0 != "text" }) {
                    return fail("unknown key '\(unknown)' in a text (use: network, text)")
                }
                if let raw = pair["network"], !(raw is String) {
                    return fail("a text's network must be a string like \"x\"")
                }
                var network: Network? = nil
                if let code = pair["network"] as? String {
                    guard let known = Network(rawValue: code.lowercased()) else {
                        return fail("unknown network '\(code)' (use: \(Network.codes))")
                    }
                    network = known
                }
                suggestions.append(SuggestedText(network: network, text: text))
            } else {
                return fail("each text is a string or {\"network\": …, \"text\": …}")
            }
        }
        if suggestions.contains(where: { $0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            return fail("a suggested text is empty")
        }
        if suggestions.contains(where: { $0.text.containsNUL }) { return fail("a suggested text \(nulMessage)") }
        return .success(suggestions)
    }

    /// `"variants": {"en": {"title": …, "summary": …, "prompt": …, "texts": […]}}`.
    public static func variants(_ value: Any?, main: Language, line: Int) -> Result<[ContentVariant], ImportProblem> {
        func fail(_ field: String, _ message: String) -> Result<[ContentVariant], ImportProblem> {
            .failure(ImportProblem(line: line, field: field, message: message))
        }
        guard let value, !(value is NSNull) else { return .success([]) }
        guard let object = value as? [String: Any] else {
            return fail("variants", "must be an object keyed by language, e.g. {\"en\": {\"title\": …}}")
        }
        var variants: [ContentVariant] = []
        for code in object.keys.sorted() {
            let field = "variants.\(code)"
            guard let language = Language(rawValue: code) else {
                return fail(field, "unknown language (use: \(Language.codes))")
            }
            guard language != main else { return fail(field, "is the item's main language; edit the item itself") }
            guard let entry = object[code] as? [String: Any] else { return fail(field, "must be an object") }
            if let unknown = entry.keys.sorted().first(where: { !variantKeys.contains($0) }) {
                return fail("\(field).\(unknown)", "unknown key (allowed: \(variantKeys.joined(separator: ", ")))")
            }
            var strings: [String: String] = [:]
            for key in ["title", "summary", "prompt"] {
                guard let raw = entry[key], !(raw is NSNull) else { continue }
                guard let text = raw as? String else { return fail("\(field).\(key)", "must be a string") }
                strings[key] = text.collapsingWhitespace
            }
            let title = strings["title"] ?? ""
            let texts: [SuggestedText]
            switch suggestedTexts(entry["texts"], field: "\(field).texts", line: line) {
            case .failure(let problem): return .failure(problem)
            case .success(let value): texts = value
            }
            if title.isEmpty && (strings["summary"] ?? "").isEmpty && (strings["prompt"] ?? "").isEmpty && texts.isEmpty
            {
                return fail(field, "is empty: give at least a title, summary, prompt or text")
            }
            variants.append(
                ContentVariant(
                    language: language, title: title, summary: strings["summary"] ?? "",
                    prompt: strings["prompt"].flatMap { $0.isEmpty ? nil : $0 }, texts: texts))
        }
        return .success(variants)
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
        // `Https://` (a spreadsheet's capital) is stored as `https://`: the stores' rules and every comparison of
        // URLs take the scheme in lower case.
        return scheme + text.dropFirst(scheme.count)
    }
}
