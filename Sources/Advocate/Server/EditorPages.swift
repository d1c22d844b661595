import AdvocateCore
import Foundation
import Mustache

/// The editor's pages (`Templates/editor-*.html.mustache`), in English: the people who run the programme work in
/// one language, the digests they prepare in several.
struct EditorPages: Sendable {
    let library: MustacheLibrary

    static let names = [
        "editor-head.html", "editor-foot.html", "editor-login.html", "editor-weeks.html", "editor-week.html",
        "editor-item.html", "editor-preview.html",
    ]

    static func load(directory: URL) throws -> EditorPages {
        var library = MustacheLibrary()
        for name in names {
            library.register(try .advocate(named: name, in: directory), named: name)
        }
        return EditorPages(library: library)
    }

    func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: "editor-\(name).html") ?? ""
    }
}

/// What the editor's pages may load: their own styles, images from anywhere (item previews), the digest preview in
/// a frame of this site, forms to this site only.
let editorContentSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; frame-src 'self'; "
    + "form-action 'self'; frame-ancestors 'none'"

/// The digest shown inside the preview frame: sandboxed (no scripts, no forms, no same-origin access), framed by
/// this site only.
let previewContentSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; frame-ancestors 'self'; "
    + "sandbox allow-popups allow-popups-to-escape-sandbox"
