/// Wraps plain text for mail (RFC 3676 §4.2 recommends at most 78, we use 72): lines are broken at spaces, and a
/// word longer than the width (a link) gets a line of its own rather than being cut, so links stay clickable.
/// It runs for every digest, so it works on the UTF-8 bytes and returns the text itself when no line is too long.
public enum TextWrap {
    /// `text` with every line of more than `width` characters (Unicode scalars) broken at spaces.
    public static func wrap(_ text: String, width: Int = 72) -> String {
        var text = text
        return text.withUTF8 { bytes in
            // Fast path: no line has more than `width` bytes, so none has more than `width` characters either.
            guard let firstLong = firstLineLonger(than: width, in: bytes) else { return nil }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + bytes.count / 30)
            output.append(contentsOf: bytes[..<firstLong])
            var start = firstLong
            while start <= bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 10 { end += 1 }
                wrapLine(bytes[start..<end], width: width, into: &output)
                if end < bytes.count { output.append(10) }
                start = end + 1
            }
            return String(decoding: output, as: UTF8.self)
        } ?? text
    }

    /// Where the first line longer than `width` bytes starts, or `nil` when there is none.
    private static func firstLineLonger(than width: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var lineStart = 0
        for index in bytes.indices where bytes[index] == 10 {
            if index - lineStart > width { return lineStart }
            lineStart = index + 1
        }
        return bytes.count - lineStart > width ? lineStart : nil
    }

    /// Appends one line (without its line end), broken at spaces so that no part exceeds `width` characters.
    private static func wrapLine(_ line: Slice<UnsafeBufferPointer<UInt8>>, width: Int, into output: inout [UInt8]) {
        guard line.count > width, characters(line) > width else {
            output.append(contentsOf: line)
            return
        }
        var column = 0
        var lineStart = true
        var wordStart = line.startIndex
        while wordStart <= line.endIndex {
            var wordEnd = wordStart
            while wordEnd < line.endIndex && line[wordEnd] != 32 { wordEnd += 1 }
            let word = line[wordStart..<wordEnd]
            let length = characters(word)
            if !lineStart && column + 1 + length > width {
                output.append(10)
                column = 0
                lineStart = true
            }
            if !lineStart {
                output.append(32)
                column += 1
            }
            output.append(contentsOf: word)
            column += length
            lineStart = false
            wordStart = wordEnd + 1
        }
    }

    /// The number of Unicode scalars in UTF-8 bytes: every byte that does not continue a sequence starts one.
    private static func characters(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int {
        var count = 0
        for byte in bytes where byte & 0xC0 != 0x80 { count += 1 }
        return count
    }
}
