import AdvocateCore
import Foundation
import Mustache

/// Why the templates could not be used.
public struct TemplateError: Error, CustomStringConvertible {
    public var description: String
}

/// The digest templates and language strings of `Templates/`, loaded and compiled once per run.
///
/// `digest.html` and `digest.txt` are the layouts; `item`, `buttons` and `footer` are partials; `strings/LANG.json`
/// holds the words per language. Strings may use `{{organization}}`, `{{weekNumber}}`, `{{firstTitle}}`,
/// `{{itemCount}}` and `{{firstName}}`.
public struct TemplateSet: Sendable {
    /// Templates that must exist.
    public static let required = [
        "digest.html", "digest.txt", "item.html", "item.txt", "buttons.html", "buttons.txt", "footer.html",
        "footer.txt", "results.html", "results.txt",
    ]
    /// Strings every language file must define.
    public static let requiredStrings =
        [
            "subject", "weekLabel", "greeting", "intro", "suggested", "ownWords", "copyHint.one", "copyHint.other",
            "and", "read", "thanks", "frequency", "preferences", "unsubscribe", "resultsTitle", "resultsWeek",
            "resultsWeekNone", "resultsAllTime", "resultsReach", "resultsBest", "resultsLeaders", "resultsFirst",
        ]
        + ["post", "visit", "reader", "colleague", "more", "preheader", "resultsTeam"].flatMap {
            ["\($0).one", "\($0).other"]
        }
        + Network.allCases.map { "button.\($0.rawValue)" }

    let library: MustacheLibrary
    /// Per language and key: the string compiled for HTML (its literal text escaped) and for plain text.
    let strings: [Language: [String: (html: MustacheTemplate, text: MustacheTemplate)]]

    /// Loads and compiles every template in `directory`, naming the file and line of any error.
    public static func load(directory: URL) throws -> TemplateSet {
        var library = MustacheLibrary()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            throw TemplateError(
                description: "templates folder \(directory.path) not found (config key templatesDirectory)")
        }
        for name in names.sorted() where name.hasSuffix(".mustache") {
            let file = directory.appendingPathComponent(name)
            let source = try read(file)
            do {
                library.register(
                    try MustacheTemplate.advocate(source, name: name), named: String(name.dropLast(".mustache".count)))
            } catch let error as MustacheTemplate.ParserError {
                throw TemplateError(
                    description: "\(file.path) line \(error.context.lineNumber), column \(error.context.columnNumber): "
                        + "\(error.error)")
            }
        }
        for name in required where library.getTemplate(named: name) == nil {
            throw TemplateError(description: "template \(directory.path)/\(name).mustache is missing")
        }
        var strings: [Language: [String: (html: MustacheTemplate, text: MustacheTemplate)]] = [:]
        for language in Language.allCases {
            let file = directory.appendingPathComponent("strings/\(language.rawValue).json")
            let values: [String: String]
            do {
                values = try JSONDecoder().decode([String: String].self, from: Data(try read(file).utf8))
            } catch let error as TemplateError {
                throw error
            } catch {
                throw TemplateError(description: "\(file.path): expected a JSON object of strings")
            }
            var compiled: [String: (html: MustacheTemplate, text: MustacheTemplate)] = [:]
            for key in requiredStrings {
                guard let value = values[key] else {
                    throw TemplateError(description: "\(file.path): the string '\(key)' is missing")
                }
                do {
                    compiled[key] = (
                        try MustacheTemplate(string: value.htmlEscaped),
                        try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + value)
                    )
                } catch {
                    throw TemplateError(description: "\(file.path): the string '\(key)' is not a valid template")
                }
            }
            strings[language] = compiled
        }
        return TemplateSet(library: library, strings: strings)
    }

    private static func read(_ file: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .utf8)
        else { throw TemplateError(description: "cannot read \(file.path)") }
        return text
    }

    /// Renders a layout with a context.
    func render(_ context: [String: Any], template: String) -> String {
        library.render(context, withTemplate: template) ?? ""
    }

    /// The singular or plural form of `key` (`key.one` for exactly 1, `key.other` otherwise, as Dutch and English
    /// both do) for `count`, as plain text; `{{n}}` in it is the count, other values come from `context`.
    func plural(_ language: Language, _ key: String, _ count: Int, context: [String: Any] = [:]) -> String {
        let form = count == 1 ? "\(key).one" : "\(key).other"
        var values = context
        values["n"] = count
        return strings[language]?[form]?.text.render(values, library: library) ?? "\(count)"
    }

    /// One string of `language` as plain text.
    func text(_ language: Language, _ key: String, context: [String: Any] = [:]) -> String {
        strings[language]?[key]?.text.render(context, library: library) ?? key
    }

    /// The strings of `language` rendered against `context`, for HTML and for text.
    func words(_ language: Language, context: [String: Any]) -> (html: [String: String], text: [String: String]) {
        var html: [String: String] = [:]
        var text: [String: String] = [:]
        for (key, pair) in strings[language] ?? [:] {
            html[key] = pair.html.render(context, library: library)
            text[key] = pair.text.render(context, library: library)
        }
        return (html, text)
    }
}
