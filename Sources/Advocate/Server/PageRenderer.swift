import AdvocateCore
import Foundation
import Mustache

/// The few HTML pages the server shows (unsubscribe, not found), from `Templates/page.html.mustache` and
/// `Templates/strings/pages.json`.
public struct PageRenderer: Sendable {
    let template: MustacheTemplate
    let strings: [String: [String: String]]

    /// Loads the page template and its strings.
    public static func load(directory: URL) throws -> PageRenderer {
        let page = directory.appendingPathComponent("page.html.mustache")
        let stringsFile = directory.appendingPathComponent("strings/pages.json")
        guard let source = try? String(contentsOf: page, encoding: .utf8),
            let data = FileManager.default.contents(atPath: stringsFile.path),
            let strings = try? JSONDecoder().decode([String: [String: String]].self, from: data)
        else {
            throw TemplateError(description: "cannot read \(page.path) or \(stringsFile.path)")
        }
        do {
            return PageRenderer(template: try MustacheTemplate(string: source), strings: strings)
        } catch {
            throw TemplateError(description: "\(page.path) is not a valid template: \(error)")
        }
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
        return template.render(context)
    }
}
