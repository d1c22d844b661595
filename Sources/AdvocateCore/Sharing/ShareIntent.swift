/// The share dialogs of each network, filled with a text and a URL. Text and URL are percent-encoded with only
/// RFC 3986 unreserved characters left as they are, so spaces, `&`, `#`, emoji and accented letters all survive.
public enum ShareIntent {
    /// The address of `network`'s share dialog for `url` with `text` (and `subject` for e-mail).
    public static func url(for network: Network, text: String, url: String, subject: String) -> String {
        // Only what this network's dialog takes is encoded: this runs for every share click.
        var u: String { percentEncode(url) }
        var t: String { percentEncode(text) }
        var textAndURL: String { percentEncode(text.isEmpty ? url : "\(text) \(url)") }
        return switch network {
        case .linkedin: "https://www.linkedin.com/sharing/share-offsite/?url=\(u)"
        case .x: "https://x.com/intent/tweet?text=\(t)&url=\(u)"
        case .facebook: "https://www.facebook.com/sharer/sharer.php?u=\(u)"
        case .whatsapp: "https://wa.me/?text=\(textAndURL)"
        case .bluesky: "https://bsky.app/intent/compose?text=\(textAndURL)"
        case .threads: "https://www.threads.com/intent/post?text=\(t)&url=\(u)"
        case .telegram: "https://t.me/share/url?url=\(u)&text=\(t)"
        case .mastodon: "https://share.joinmastodon.org/?text=\(textAndURL)"
        case .email:
            "mailto:?subject=\(percentEncode(subject))&body=\(percentEncode(text.isEmpty ? url : "\(text)\n\n\(url)"))"
        }
    }

    /// Percent-encodes every byte of the UTF-8 form except A–Z, a–z, 0–9 and `-._~`.
    public static func percentEncode(_ text: String) -> String {
        let utf8 = text.utf8
        return String(unsafeUninitializedCapacity: utf8.count * 3) { buffer in
            var count = 0
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                    UInt8(ascii: "~"):
                    buffer[count] = byte
                    count += 1
                default:
                    buffer[count] = UInt8(ascii: "%")
                    buffer[count + 1] = hexDigit(byte >> 4)
                    buffer[count + 2] = hexDigit(byte & 0x0F)
                    count += 3
                }
            }
            return count
        }
    }

    /// The upper-case hexadecimal digit of a value below 16.
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
