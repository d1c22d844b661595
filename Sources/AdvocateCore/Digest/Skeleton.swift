/// A rendered template with holes. Most of a digest is the same for everyone who shares a language, a set of items
/// and a set of networks; the template is rendered once for such a group with marker values in the personal places,
/// and each ambassador's copy is made by filling the holes: a string join instead of a template render.
public struct Skeleton: Sendable {
    /// A piece of the rendered text.
    public enum Segment: Sendable, Equatable {
        /// Text that is the same for the whole group.
        case literal(String)
        /// The value of slot `n`.
        case slot(Int)
    }

    /// The pieces, in order.
    public let segments: [Segment]
    private let literalLength: Int

    /// The marker that stands for slot `index` in a rendered template. Private-use characters never occur in real
    /// content and pass HTML escaping unchanged.
    public static func marker(_ index: Int) -> String { "\u{E000}\(index)\u{E001}" }

    /// Splits rendered text at its markers.
    public init(rendered: String) {
        var segments: [Segment] = []
        var literal = String.UnicodeScalarView()
        var number: Int? = nil
        var pending = String.UnicodeScalarView()  // a marker being read, kept in case it turns out not to be one
        for scalar in rendered.unicodeScalars {
            if scalar == "\u{E000}" {
                literal.append(contentsOf: pending)
                pending = String.UnicodeScalarView()
                pending.append(scalar)
                number = 0
            } else if let current = number, ("0"..."9").contains(scalar) {
                number = current * 10 + Int(scalar.value - 48)
                pending.append(scalar)
            } else if scalar == "\u{E001}", let index = number, pending.count > 1 {
                if !literal.isEmpty { segments.append(.literal(String(literal))) }
                literal = String.UnicodeScalarView()
                segments.append(.slot(index))
                number = nil
                pending = String.UnicodeScalarView()
            } else {
                literal.append(contentsOf: pending)
                pending = String.UnicodeScalarView()
                number = nil
                literal.append(scalar)
            }
        }
        literal.append(contentsOf: pending)
        if !literal.isEmpty { segments.append(.literal(String(literal))) }
        self.segments = segments
        literalLength = segments.reduce(0) { total, segment in
            if case .literal(let text) = segment { return total + text.utf8.count }
            return total
        }
    }

    /// The text with every slot replaced by `values[slot]` (an empty string when there is no such value).
    public func fill(_ values: [String]) -> String {
        var output = ""
        output.reserveCapacity(literalLength + values.reduce(0) { $0 + $1.utf8.count } + 64)
        for segment in segments {
            switch segment {
            case .literal(let text): output += text
            case .slot(let index): if index < values.count { output += values[index] }
            }
        }
        return output
    }

    /// The slot numbers used, in order of appearance.
    public var slots: [Int] {
        segments.compactMap { if case .slot(let index) = $0 { index } else { nil } }
    }
}

extension String {
    /// The text without the two private-use characters of ``Skeleton/marker(_:)``: content (a title, a text) is
    /// rendered into a group's skeleton, where `\u{E000}4\u{E001}` in a title would become a hole filled with each
    /// person's value (their unsubscribe link, in the subject). Real text never holds them.
    public var withoutSlotMarkers: String {
        guard unicodeScalars.contains(where: { $0 == "\u{E000}" || $0 == "\u{E001}" }) else { return self }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: unicodeScalars.lazy.filter { $0 != "\u{E000}" && $0 != "\u{E001}" })
        return String(kept)
    }

    /// The text escaped for HTML element content and attribute values, as Mustache escapes `{{value}}`. Works on
    /// UTF-8 bytes: it runs for every personal value of every digest.
    public var htmlEscaped: String {
        func special(_ byte: UInt8) -> Bool {
            byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22 || byte == 0x27
        }
        guard utf8.contains(where: special) else { return self }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count + utf8.count / 8 + 16)
        for byte in utf8 {
            switch byte {
            case 0x26: output += [0x26, 0x61, 0x6D, 0x70, 0x3B]  // &amp;
            case 0x3C: output += [0x26, 0x6C, 0x74, 0x3B]  // &lt;
            case 0x3E: output += [0x26, 0x67, 0x74, 0x3B]  // &gt;
            case 0x22: output += [0x26, 0x71, 0x75, 0x6F, 0x74, 0x3B]  // &quot;
            case 0x27: output += [0x26, 0x23, 0x33, 0x39, 0x3B]  // &#39;
            default: output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
