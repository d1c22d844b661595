import AdvocateCore
import CLibXML2
import Foundation

/// HTML and XML through libxml2's parsers (never regular expressions): page metadata, feed entries, and the text of
/// an HTML fragment. Network access and entity substitution are off, so a document cannot make the parser fetch
/// anything or expand external entities.
public enum MarkupParser {
    /// The metadata of an HTML page. `charset` is the HTTP header's; without it the page's own `<meta charset>`
    /// decides, and a page that declares nothing is read as UTF-8 when it is valid UTF-8.
    public static func metadata(html: [UInt8], charset: String?, pageURL: String) -> PageMetadata? {
        guard let document = parseHTML(html, charset: charset, url: pageURL) else { return nil }
        defer { xmlFreeDoc(document) }
        var meta: [String: String] = [:]
        var title: String?
        var canonical: String?
        walk(xmlDocGetRootElement(document)) { node, name in
            switch name {
            case "meta":
                guard let content = attribute(node, "content") else { return }
                for key in [attribute(node, "property"), attribute(node, "name")].compactMap({ $0?.lowercased() })
                where meta[key] == nil {
                    meta[key] = content
                }
            case "title" where title == nil:
                title = content(node)
            case "link" where canonical == nil:
                let rel = attribute(node, "rel")?.lowercased().split(separator: " ") ?? []
                if rel.contains("canonical") { canonical = attribute(node, "href") }
            default: break
            }
        }
        return PageMetadata(meta: meta, documentTitle: title, canonicalLink: canonical, pageURL: pageURL)
    }

    /// The visible text of an HTML fragment (a feed's description), whitespace collapsed.
    public static func text(ofHTML fragment: String) -> String {
        guard fragment.contains("<") || fragment.contains("&") else { return fragment.collapsingWhitespace }
        let wrapped = Array("<html><body>\(fragment)</body></html>".utf8)
        guard let document = parseHTML(wrapped, charset: "UTF-8", url: nil) else {
            return fragment.collapsingWhitespace
        }
        defer { xmlFreeDoc(document) }
        var parts: [String] = []
        walk(xmlDocGetRootElement(document)) { node, name in
            if name == "body" { parts.append(content(node) ?? "") }
        }
        return parts.joined(separator: " ").collapsingWhitespace
    }

    /// Why a document is no feed Advocate reads.
    public struct FeedProblem: Error, CustomStringConvertible {
        public var description: String
    }

    /// The entries of an RSS 2.0 or Atom document, in document order. Throws, saying why, when it is neither, is
    /// not well-formed XML (with libxml2's line and message), or declares entities of its own: those are never
    /// expanded, since a few kilobytes of them can stand for gigabytes of text.
    public static func feedEntries(xml: [UInt8], feedURL: String) throws(FeedProblem) -> [FeedEntry] {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        xmlResetLastError()
        let document =
            xml.isEmpty
            ? nil
            : xml.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    xmlReadMemory($0, Int32(buffer.count), feedURL, nil, options)
                }
            }
        guard let document, let root = xmlDocGetRootElement(document) else {
            if let document { xmlFreeDoc(document) }
            var reason = "not well-formed XML"
            if let error = xmlGetLastError()?.pointee {
                let message = error.message.map { String(cString: $0) }?.collapsingWhitespace ?? ""
                reason += " (line \(error.line): \(message))"
            }
            throw FeedProblem(description: "not an RSS 2.0 or Atom feed: \(reason)")
        }
        defer { xmlFreeDoc(document) }
        if let subset = document.pointee.intSubset?.pointee, subset.entities != nil || subset.pentities != nil {
            throw FeedProblem(
                description: "refused: the feed declares XML entities of its own in its DOCTYPE, which are not expanded"
            )
        }
        let rootName = name(root)
        guard rootName == "rss" || rootName == "feed" || rootName == "RDF" else {
            throw FeedProblem(description: "not an RSS 2.0 or Atom feed: its root element is <\(rootName)>")
        }
        var entries: [FeedEntry] = []
        walk(root) { node, name in
            guard name == "item" || name == "entry" else { return }
            if let entry = entry(node, feedURL: feedURL) { entries.append(entry) }
        }
        return entries
    }

    // MARK: - libxml2

    private static func parseHTML(_ bytes: [UInt8], charset: String?, url: String?) -> htmlDocPtr? {
        var encoding = charset
        if encoding == nil {
            let head = String(decoding: bytes.prefix(4_096), as: UTF8.self).lowercased()
            if !head.contains("charset"), String(validating: bytes, as: UTF8.self) != nil { encoding = "UTF-8" }
        }
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                | HTML_PARSE_NONET.rawValue)
        guard !bytes.isEmpty else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                htmlReadMemory($0, Int32(buffer.count), url, encoding, options)
            }
        }
    }

    /// Calls `visit` for every element under and including `node`, depth first.
    private static func walk(_ node: xmlNodePtr?, _ visit: (xmlNodePtr, String) -> Void) {
        var current = node
        while let element = current {
            if element.pointee.type == XML_ELEMENT_NODE {
                visit(element, name(element))
                walk(element.pointee.children, visit)
            }
            current = element.pointee.next
        }
    }

    private static func name(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    private static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetProp(node, name) else { return nil }
        defer { advocate_xml_free(value) }
        return String(cString: value)
    }

    private static func content(_ node: xmlNodePtr) -> String? {
        guard let value = xmlNodeGetContent(node) else { return nil }
        defer { advocate_xml_free(value) }
        return String(cString: value)
    }

    private static func children(_ node: xmlNodePtr) -> [(name: String, node: xmlNodePtr)] {
        var result: [(String, xmlNodePtr)] = []
        var current = node.pointee.children
        while let child = current {
            if child.pointee.type == XML_ELEMENT_NODE { result.append((name(child), child)) }
            current = child.pointee.next
        }
        return result
    }

    /// One `<item>` (RSS) or `<entry>` (Atom).
    private static func entry(_ node: xmlNodePtr, feedURL: String) -> FeedEntry? {
        /// An Atom text is plain text unless its `type` says `html` (so `Using &lt;canvas&gt;` keeps its tag as
        /// text); an RSS one may hold HTML.
        let atom = name(node) == "entry"
        func textOf(_ child: xmlNodePtr) -> String {
            let value = content(child) ?? ""
            return atom && attribute(child, "type") != "html" ? value.collapsingWhitespace : text(ofHTML: value)
        }
        var title = ""
        var link: String?
        var key: String?
        var summary = ""
        var image: String?
        var published: Date?
        var updated: Date?
        for (name, child) in children(node) {
            switch name {
            case "pubDate", "published", "date":
                if published == nil { published = content(child).flatMap(FeedDate.parse) }
            case "updated": updated = content(child).flatMap(FeedDate.parse)
            case "title": title = textOf(child)
            case "link":
                if let href = attribute(child, "href") {
                    let rel = attribute(child, "rel") ?? "alternate"
                    if rel == "alternate" && link == nil { link = href }
                    if rel == "enclosure", attribute(child, "type")?.hasPrefix("image/") == true { image = href }
                } else if link == nil {
                    link = content(child)?.trimmingCharacters(in: .whitespacesAndNewlines)
                }
            case "guid", "id": key = content(child)?.trimmingCharacters(in: .whitespacesAndNewlines)
            case "description", "summary":
                summary = textOf(child)
            case "content" where attribute(child, "medium") == "image" || attribute(child, "url") != nil:
                // Media RSS <media:content url=… medium="image">, not Atom's <content>.
                if image == nil, attribute(child, "medium") == "image" { image = attribute(child, "url") }
            case "content" where summary.isEmpty:
                summary = textOf(child)
            case "enclosure" where attribute(child, "type")?.hasPrefix("image/") == true:
                image = attribute(child, "url")
            case "thumbnail" where image == nil:
                image = attribute(child, "url")
            default: break
            }
        }
        guard let raw = link, let resolved = URL(string: raw, relativeTo: URL(string: feedURL)),
            let url = WebURL.validated(resolved.absoluteString), !title.isEmpty
        else { return nil }
        let imageURL = image.flatMap { URL(string: $0, relativeTo: URL(string: url)) }.flatMap {
            WebURL.validated($0.absoluteString)
        }
        return FeedEntry(
            key: key.flatMap { $0.isEmpty ? nil : $0 } ?? url, url: url, title: title,
            summary: PageMetadata.shortened(summary), imageURL: imageURL, published: published ?? updated)
    }
}
