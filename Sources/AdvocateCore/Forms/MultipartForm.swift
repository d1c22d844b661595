/// The text fields of a `multipart/form-data` body (RFC 7578), which RFC 8058 recommends for one-click
/// unsubscribe POSTs. Only what a form of ours can carry is read: named parts with text content. Anything
/// malformed gives `nil`, never a crash, whatever the bytes.
public enum MultipartForm {
    /// The `boundary` parameter of a `multipart/form-data` content type, or `nil` for any other type.
    public static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingSpaces }
        guard let type = parts.first, type.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            guard parameter[..<equals].trimmingSpaces.lowercased() == "boundary" else { continue }
            var value = parameter[parameter.index(after: equals)...].trimmingSpaces
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            // RFC 2046 §5.1.1: 1 to 70 characters.
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// Field name → value of every part that has a name; the first of repeated names wins. `nil` when the body is
    /// not a well-formed multipart body with this boundary.
    public static func fields(_ body: [UInt8], boundary: String) -> [String: String]? {
        let delimiter = Array("--\(boundary)".utf8)
        var fields: [String: String] = [:]
        guard var position = find(delimiter, in: body, from: 0) else { return nil }
        while true {
            position += delimiter.count
            if body[position...].starts(with: Array("--".utf8)) { return fields }  // the closing delimiter
            guard let lineEnd = find(crlf, in: body, from: position) else { return nil }
            let partStart = lineEnd + 2
            guard let next = find([13, 10] + delimiter, in: body, from: partStart) else { return nil }
            let part = Array(body[partStart..<next])
            if let (name, value) = field(part), fields[name] == nil { fields[name] = value }
            position = next + 2
        }
    }

    private static let crlf: [UInt8] = [13, 10]

    /// The name and text of one part: headers, an empty line, the content.
    private static func field(_ part: [UInt8]) -> (String, String)? {
        let headerEnd: Int
        let contentStart: Int
        if part.starts(with: crlf) {
            headerEnd = 0
            contentStart = 2
        } else if let end = find(crlf + crlf, in: part, from: 0) {
            headerEnd = end
            contentStart = end + 4
        } else {
            return nil
        }
        let headers = String(decoding: part[0..<headerEnd], as: UTF8.self).components(separatedBy: "\r\n")
        var name: String?
        for header in headers {
            guard let colon = header.firstIndex(of: ":"),
                header[..<colon].trimmingSpaces.lowercased() == "content-disposition"
            else { continue }
            name = parameter("name", in: String(header[header.index(after: colon)...]))
        }
        guard let name else { return nil }
        return (name, String(decoding: part[contentStart...], as: UTF8.self))
    }

    /// A parameter of a header value such as `form-data; name="List-Unsubscribe"`.
    private static func parameter(_ wanted: String, in value: String) -> String? {
        for piece in value.split(separator: ";").dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            guard piece[..<equals].trimmingSpaces.lowercased() == wanted else { continue }
            var text = piece[piece.index(after: equals)...].trimmingSpaces
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
                text = String(text.dropFirst().dropLast())
            }
            return text
        }
        return nil
    }

    /// The first index at or after `start` where `needle` occurs in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, start >= 0, haystack.count - start >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
