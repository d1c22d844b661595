import Foundation
import Testing

@testable import AdvocateCore

/// The shortcuts taken for plain ASCII text give what the general code gives, on random text made of the characters
/// each rule is about.
@Suite("Fast paths for plain text")
struct FastPathTests {
    /// Random strings of `pieces`, `count` of them.
    static func texts(_ pieces: [String], count: Int, length: ClosedRange<Int>) -> [String] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            (0..<Int.random(in: length, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined()
        }
    }

    @Test("quoted-printable eight bytes at a time encodes exactly as the byte loop")
    func quotedPrintableWords() {
        let pieces = [
            "abcdefgh", "word", " ", "  ", "=", ".", "From ", "\n", "\r\n", "\r", "\t", "é", "~", "\u{7F}", "x y z",
            "<a href=\"https://example.org/s/AbC\">", "0123456789012345678901234567890123456789",
        ]
        for text in Self.texts(pieces, count: 1_000, length: 0...60) {
            var fast: [UInt8] = []
            var reference: [UInt8] = []
            var copy = text
            copy.withUTF8 { bytes in
                QuotedPrintable.encode(bytes, into: &fast)
                QuotedPrintable.encode(bytes, into: &reference, wordAtATime: false)
            }
            #expect(fast == reference, "\(text.debugDescription)")
        }
    }

    @Test("the eight-byte test passes exactly the words whose bytes are all 32…126 and not '='")
    func literalWords() {
        var generator = SystemRandomNumberGenerator()
        let edges: [UInt8] = [0, 9, 10, 13, 31, 32, 33, 60, 61, 62, 65, 126, 127, 128, 200, 255]
        for round in 0..<20_000 {
            let bytes = (0..<8).map { _ in
                round % 2 == 0
                    ? edges.randomElement(using: &generator)! : UInt8.random(in: 28...130, using: &generator)
            }
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            #expect(
                QuotedPrintable.allLiteral(word) == bytes.allSatisfy { $0 >= 32 && $0 <= 126 && $0 != 61 },
                "\(bytes)")
        }
    }

    @Test("collapsing whitespace: plain ASCII is returned as it is, and agrees with the general rule")
    func collapsing() {
        let pieces = ["a", "Zoë", " ", "  ", "\t", "\n", "\r\n", "\u{7F}", "\u{85}", "\u{A0}", "-", "x", "\u{1}"]
        for text in Self.texts(pieces, count: 2_000, length: 0...12) {
            #expect(text.collapsingWhitespace == Self.collapsedReference(text), "\(text.debugDescription)")
        }
        #expect("Nieuws 3: ons zonnepark".collapsingWhitespace == "Nieuws 3: ons zonnepark")
    }

    @Test("first names of ASCII names agree with the general rule (trim spaces and tabs, first word)")
    func firstNames() {
        let pieces = ["Ann", "van", " ", "  ", "\t", "Zoë", "\u{A0}", "-", "\n", "O'Neil"]
        for name in Self.texts(pieces, count: 2_000, length: 0...6) {
            let person = Ambassador(
                email: "local.part@example.org", name: name, language: .nl, networks: [], joinedAt: Date())
            #expect(person.firstName == Self.firstNameReference(person), "\(name.debugDescription)")
        }
        #expect(
            Ambassador(
                email: "x@example.org", name: "  Ann\tMarie van Dijk ", language: .nl, networks: [], joinedAt: Date()
            ).firstName == "Ann\tMarie")
        #expect(
            Ambassador(email: "kim@example.org", name: " \t ", language: .nl, networks: [], joinedAt: Date()).firstName
                == "kim")
    }

    /// The general rule on Unicode scalars, as it was before the shortcut.
    static func collapsedReference(_ text: String) -> String {
        var result = ""
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || scalar == "\u{0085}" {
                if !lastWasSpace { result.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else if scalar.properties.generalCategory != .control {
                result.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        if result.hasSuffix(" ") { result.removeLast() }
        return result
    }

    /// Foundation's trimming and a split on spaces, as it was before the shortcut.
    static func firstNameReference(_ person: Ambassador) -> String {
        let trimmed = person.name.trimmingCharacters(in: .whitespaces)
        if let first = trimmed.split(separator: " ").first { return String(first) }
        return String(person.email.split(separator: "@").first ?? "")
    }
}
