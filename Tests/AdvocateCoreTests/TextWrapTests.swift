import AdvocateCore
import Testing

@Suite("Plain-text wrapping")
struct TextWrapTests {
    /// The obvious version on Swift strings: split lines, split words, count scalars.
    static func reference(_ text: String, width: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.unicodeScalars.count > width else { return String(line) }
            var output = ""
            var column = 0
            var lineStart = true
            for word in line.split(separator: " ", omittingEmptySubsequences: false) {
                let length = word.unicodeScalars.count
                if !lineStart && column + 1 + length > width {
                    output += "\n"
                    column = 0
                    lineStart = true
                }
                if !lineStart {
                    output += " "
                    column += 1
                }
                output += word
                column += length
                lineStart = false
            }
            return output
        }.joined(separator: "\n")
    }

    @Test("long lines break at spaces, links keep a line of their own, short text is returned as it is")
    func examples() {
        let link = "https://go.acme.example/s/" + String(repeating: "x", count: 80)
        #expect(TextWrap.wrap("kort\nook kort", width: 10) == "kort\nook kort")
        #expect(TextWrap.wrap("een twee drie vier", width: 9) == "een twee\ndrie vier")
        #expect(TextWrap.wrap("lees \(link) nu", width: 20) == "lees\n\(link)\nnu")
        // Width counts characters, not bytes: two words of 8 × "é" are 17 characters (33 bytes) and fit in 20.
        let accents = String(repeating: "é", count: 8)
        #expect(TextWrap.wrap("\(accents) \(accents)", width: 20) == "\(accents) \(accents)")
        #expect(TextWrap.wrap("\(accents) \(accents)", width: 16) == "\(accents)\n\(accents)")
        #expect(TextWrap.wrap("a b  c\n\n", width: 3) == "a b\n c\n\n")
    }

    @Test("agrees with the plain string version on random text with accents, emoji, blank lines and runs of spaces")
    func randomText() {
        var generator = SystemRandomNumberGenerator()
        let pieces = [
            "a", "woord", "héél", "🎉", " ", "  ", "\n", "\n\n",
            "https://x.example/" + String(repeating: "k", count: 40),
        ]
        for _ in 0..<500 {
            let text = (0..<Int.random(in: 0...60, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            let width = Int.random(in: 1...30, using: &generator)
            #expect(TextWrap.wrap(text, width: width) == Self.reference(text, width: width), "\(width): \(text)")
        }
    }
}
