import AdvocateCore
import Foundation
import Mustache

/// How every HTML template escapes `{{value}}`: by UTF-8 bytes, as the digest's slots are (``Swift/String/htmlEscaped``).
/// Mustache's own escaping looks at one `Character` at a time, and a `"` (or `<`, `&`, `'`) followed by a combining
/// mark is one `Character` it leaves as it is: a title like `Launch"\u{301} style=…` would end an attribute.
struct ByteHTMLContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { text.htmlEscaped }
}

extension MustacheTemplate {
    /// The content type's name in the pragma each HTML template starts with.
    private static let byteHTML: String = {
        MustacheContentTypes.register(ByteHTMLContentType(), named: "ADVOCATE_HTML")
        return "ADVOCATE_HTML"
    }()

    /// The template `source` of the file `name` (`….html.mustache` or `….txt.mustache`): an HTML one escapes by
    /// bytes. (A partial starts with that too: Mustache renders each partial with its default escaping.)
    static func advocate(_ source: String, name: String) throws -> MustacheTemplate {
        let html = name.hasSuffix(".html") || name.hasSuffix(".html.mustache")
        return try MustacheTemplate(string: html ? "{{% CONTENT_TYPE: \(byteHTML)}}" + source : source)
    }

    /// The template `name` (`page.html`, `notice.txt`, …) read from `directory`'s `name.mustache`, as
    /// ``advocate(_:name:)`` makes it; a file that cannot be read or parsed is a ``TemplateError`` that names it.
    static func advocate(named name: String, in directory: URL) throws -> MustacheTemplate {
        let file = directory.appendingPathComponent("\(name).mustache")
        guard let source = try? String(contentsOf: file, encoding: .utf8) else {
            throw TemplateError(description: "cannot read \(file.path)")
        }
        do { return try advocate(source, name: name) } catch {
            throw TemplateError(description: "\(file.path) is not a valid template: \(error)")
        }
    }
}
