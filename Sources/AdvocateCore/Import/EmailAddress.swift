import Crypto
import Foundation

/// Checks and normalises e-mail addresses the way a mailing tool needs: one address, no display name,
/// nothing that could break a header.
public enum EmailAddress {
    /// The address trimmed and lower-cased, or `nil` when it is not a plausible address. Only ASCII: headers, the
    /// DKIM domain and the envelope need no SMTPUTF8 that way (an internationalised domain is given in its `xn--`
    /// form), and no control or separator character of any script gets into a header.
    public static func normalized(_ raw: String) -> String? {
        let address = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard address.count <= 254, address.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return nil }
        let forbidden: Set<Character> = ["<", ">", "(", ")", "[", "]", ",", ";", ":", "\\", "\""]
        guard !parts[0].contains(where: { forbidden.contains($0) }),
            !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains("..")
        else { return nil }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return nil }
        }
        return address
    }

    /// The domain part of a valid address.
    public static func domain(of address: String) -> String {
        String(address.split(separator: "@").last ?? "")
    }

    /// The mailbox an address reaches: without a `+tag` (sub-addressing, which most providers deliver to the same
    /// inbox), so that limits per address count `zoe+1@…` and `zoe+2@…` as Zoe's.
    public static func mailbox(of address: String) -> String {
        guard let at = address.lastIndex(of: "@"), let plus = address[..<at].firstIndex(of: "+"),
            plus > address.startIndex
        else { return address }
        return String(address[..<plus] + address[at...])
    }

    /// A one-way fingerprint of a (normalised) address, for lists that must recognise an address without keeping
    /// it: rate limits and the do-not-invite list of removed people.
    public static func fingerprint(_ address: String) -> String {
        SHA256.hash(data: Data("advocate-address:\(address.lowercased())".utf8)).map { String(format: "%02x", $0) }
            .joined()
    }
}

extension String {
    /// The string with every run of whitespace, including line breaks and tabs, collapsed to one space and
    /// control characters removed. Names and titles pass through this so they can never break a header or
    /// a layout.
    public var collapsingWhitespace: String {
        // Most names, titles and headers are plain ASCII words with single spaces: then there is nothing to do, and
        // the Unicode property lookups below cost more than building a whole message header.
        var previous: UInt8 = 32
        var plain = true
        for byte in utf8 {
            if byte == 32 ? previous == 32 : byte < 33 || byte > 126 {
                plain = false
                break
            }
            previous = byte
        }
        if plain && previous != 32 { return self }
        var result = ""
        var lastWasSpace = true
        for scalar in unicodeScalars {
            if scalar.properties.isWhitespace || scalar == "\u{0085}" {
                if !lastWasSpace { result.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else if scalar.properties.generalCategory == .control {
                continue
            } else {
                result.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        if result.hasSuffix(" ") { result.removeLast() }
        return result
    }

    /// Whether the text holds U+0000, which neither mail nor PostgreSQL can carry.
    public var containsNUL: Bool { utf8.contains(0) }
}
