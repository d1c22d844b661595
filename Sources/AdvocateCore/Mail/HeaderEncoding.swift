/// Header values as RFC 5322 and RFC 2047 want them: no CR or LF can ever reach a header line from a value, non-ASCII
/// text becomes UTF-8 encoded-words of at most 75 characters, and long lines are folded.
public enum HeaderEncoding {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// An unstructured value (a subject), sanitised and encoded, for a header named `name`.
    public static func unstructured(_ value: String, headerName name: String) -> String {
        let clean = value.collapsingWhitespace
        // Plain ASCII folds at its spaces; a word too long for a line of 998 octets (a pasted URL in a title) is
        // encoded instead, which splits it.
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !clean.contains("=?")
            && !clean.split(separator: " ").contains(where: { $0.utf8.count > 900 })
        {
            return fold(words: clean.split(separator: " ").map(String.init), firstLineUsed: name.count + 2)
        }
        return fold(words: encodedWords(clean, firstLineUsed: name.count + 2), firstLineUsed: name.count + 2)
    }

    /// A mailbox `Display Name <address>`, the name quoted or encoded as needed.
    public static func mailbox(name: String, address: String, headerName: String) -> String {
        let clean = name.collapsingWhitespace
        let angle = "<\(address)>"
        if clean.isEmpty { return angle }
        let atext = clean.unicodeScalars.allSatisfy { scalar in
            (scalar.value >= 0x41 && scalar.value <= 0x5A) || (scalar.value >= 0x61 && scalar.value <= 0x7A)
                || (scalar.value >= 0x30 && scalar.value <= 0x39)
                || " !#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
        }
        let words: [String]
        if atext && !clean.contains("=?") {
            words = clean.split(separator: " ").map(String.init)
        } else if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !clean.contains("=?") {
            let escaped = clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                of: "\"", with: "\\\"")
            words = ["\"\(escaped)\""]
        } else {
            words = encodedWords(clean, firstLineUsed: headerName.count + 2)
        }
        return fold(words: words + [angle], firstLineUsed: headerName.count + 2)
    }

    /// UTF-8 "Q" encoded-words of at most 75 characters, split between characters, never inside one, except a
    /// character too long for a word on its own (a flag or family emoji of many code points), which is split between
    /// its code points. The first word is kept short enough to share the first line with the header name
    /// (`firstLineUsed` columns).
    public static func encodedWords(_ text: String, firstLineUsed: Int = 0) -> [String] {
        let prefix = "=?UTF-8?Q?"
        let suffix = "?="
        let fullRoom = 75 - prefix.count - suffix.count
        var room = min(75, 78 - firstLineUsed) - prefix.count - suffix.count
        var words: [String] = []
        var current: [UInt8] = []
        for character in text {
            let whole = encoded(String(character).utf8)
            let units = whole.count <= fullRoom ? [whole] : character.unicodeScalars.map { encoded(String($0).utf8) }
            for unit in units {
                if current.count + unit.count > room && !current.isEmpty {
                    words.append(prefix + String(decoding: current, as: UTF8.self) + suffix)
                    current = []
                    room = fullRoom
                }
                current += unit
            }
        }
        if !current.isEmpty { words.append(prefix + String(decoding: current, as: UTF8.self) + suffix) }
        return words
    }

    /// The "Q" encoding of `bytes`.
    private static func encoded(_ bytes: String.UTF8View) -> [UInt8] {
        var encoded: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: " "): encoded.append(UInt8(ascii: "_"))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                UInt8(ascii: "-"), UInt8(ascii: "/"):
                encoded.append(byte)
            default:
                encoded += [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return encoded
    }

    /// Joins words with spaces, folding (CRLF + space) before a word that would pass 78 columns.
    static func fold(words: [String], firstLineUsed: Int) -> String {
        var output = ""
        var column = firstLineUsed
        for (index, word) in words.enumerated() {
            if index > 0 {
                if column + 1 + word.count > 78 {
                    output += "\r\n "
                    column = 1
                } else {
                    output += " "
                    column += 1
                }
            }
            output += word
            column += word.count
        }
        return output
    }
}
