/// Wraps plain text for mail (RFC 3676 §4.2 recommends at most 78, we use 72): lines are broken at spaces, and a
/// word longer than the width (a link) gets a line of its own rather than being cut, so links stay clickable.
/// It runs for every digest, so it counts bytes first and only measures the lines that may be too long.
public enum TextWrap {
    /// `text` with every line of more than `width` characters broken at spaces.
    public static func wrap(_ text: String, width: Int = 72) -> String {
        // Fast path: no line has more than `width` bytes, so none has more than `width` characters either.
        var longest = 0
        var current = 0
        for byte in text.utf8 {
            if byte == 10 {
                longest = max(longest, current)
                current = 0
            } else {
                current += 1
            }
        }
        guard max(longest, current) > width else { return text }
        var output = ""
        output.reserveCapacity(text.utf8.count + text.utf8.count / 30)
        var first = true
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !first { output += "\n" }
            first = false
            guard line.utf8.count > width, line.unicodeScalars.count > width else {
                output += line
                continue
            }
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
        }
        return output
    }
}
