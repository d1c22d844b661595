import AdvocateCore
import Foundation
import Mustache

/// The HTML pages the server shows: the simple ones (unsubscribe, not found) from `Templates/page.html.mustache`
/// with `Templates/strings/pages.json`, and the membership forms (`join`, `confirm`, `preferences`) with
/// `Templates/strings/membership.json`. Partials come from the same folder.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let strings: [String: [String: String]]
    /// Membership words per language, compiled so they may use `{{organization}}`, `{{days}}` and the like.
    let membership: [String: [String: MustacheTemplate]]

    /// Loads the page templates and their strings.
    public static func load(directory: URL) throws -> PageRenderer {
        var library = MustacheLibrary()
        for name in ["page.html", "join.html", "preferences.html", "page-style.html", "form-style.html", "share.html"] {
            library.register(try .advocate(named: name, in: directory), named: name)
        }
        func strings(_ name: String) throws -> [String: [String: String]] {
            let file = directory.appendingPathComponent("strings/\(name)")
            guard let data = FileManager.default.contents(atPath: file.path),
                let strings = try? JSONDecoder().decode([String: [String: String]].self, from: data)
            else { throw TemplateError(description: "cannot read \(file.path): expected {language: {key: text}}") }
            for language in Language.allCases where strings[language.rawValue] == nil {
                throw TemplateError(description: "\(file.path) has no strings for '\(language.rawValue)'")
            }
            return strings
        }
        var membership: [String: [String: MustacheTemplate]] = [:]
        for (language, words) in try strings("membership.json") {
            for (key, text) in words {
                // Compiled as text: the pages and mails escape the words once, where they are used.
                do {
                    membership[language, default: [:]][key] = try MustacheTemplate(
                        string: "{{% CONTENT_TYPE: TEXT}}" + text)
                } catch {
                    throw TemplateError(description: "strings/membership.json: '\(language).\(key)' is not valid")
                }
            }
        }
        return PageRenderer(library: library, strings: try strings("pages.json"), membership: membership)
    }

    /// A page with the title and message under `key` (`confirm`, `done`, …) in `language`, and an optional form
    /// button that posts `action`.
    public func render(_ key: String, language: Language, action: String? = nil, button: String? = nil) -> String {
        let words = strings[language.rawValue] ?? strings["nl"] ?? [:]
        var context: [String: Any] = [
            "lang": language.rawValue, "title": words["\(key)Title"] ?? key, "message": words["\(key)Message"] ?? "",
        ]
        if let action, let button {
            context["action"] = action
            context["button"] = words[button] ?? button
        }
        return library.render(context, withTemplate: "page.html") ?? ""
    }

    /// The membership words of `language`, filled with `values` (organization, days, domains, firstName…).
    public func words(_ language: Language, _ values: [String: Any]) -> [String: String] {
        (membership[language.rawValue] ?? [:]).mapValues { $0.render(values) }
    }

    /// Renders one of the membership templates.
    public func render(template: String, context: [String: Any]) -> String {
        library.render(context, withTemplate: template) ?? ""
    }

    /// A simple page (title, message, optional link) from the membership words.
    public func notice(
        _ key: String, language: Language, values: [String: Any], link: (url: String, label: String)? = nil
    ) -> String {
        let words = self.words(language, values)
        var context: [String: Any] = [
            "lang": language.rawValue, "title": words["\(key)Title"] ?? key, "message": words["\(key)Message"] ?? "",
        ]
        if let link { context["link"] = ["url": link.url, "label": link.label] }
        return library.render(context, withTemplate: "page.html") ?? ""
    }
}
