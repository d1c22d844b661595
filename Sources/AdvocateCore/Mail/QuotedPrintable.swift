/// Quoted-printable body encoding (RFC 2045 §6.7) with CRLF line ends and lines of at most 76 characters.
public enum QuotedPrintable {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Encodes UTF-8 text whose lines end in LF or CRLF, appending to `output`.
    public static func encode(_ text: String, into output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in encode(bytes, into: &output) }
    }

    /// Encodes text, returning the bytes.
    public static func encode(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 11 / 10 + 64)
        encode(text, into: &output)
        return output
    }

    /// `wordAtATime: false` leaves the byte loop alone: the reference the tests hold the faster path to.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8], wordAtATime: Bool = true) {
        // Worst case: every byte becomes "=XX", plus a soft break every 25 such bytes. The bytes are written into
        // uninitialised capacity and appended once.
        let capacity = bytes.count * 3 + bytes.count / 8 + 16
        let encoded = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var write = 0
            let cr: UInt8 = 13
            let lf: UInt8 = 10
            var column = 0
            var index = 0
            let count = bytes.count
            while index < count {
                // Fast path, most of a body: a run of characters that stay as they are in the middle of a line
                // (printable ASCII but "=", or a space that does not end the line), copied at once.
                if column > 0 && column < 75 {
                    let limit = min(count, index + 75 - column)
                    var end = index
                    // Eight bytes at a time while all are printable ASCII or spaces and none is "=" (a space is
                    // literal unless a line end follows: inside the word a line end would fail the test itself).
                    let base = UnsafeRawPointer(bytes.baseAddress!)
                    while wordAtATime && end + 8 <= limit {
                        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: end, as: UInt64.self))
                        guard Self.allLiteral(word) else { break }
                        if word >> 56 == 32 {
                            guard end + 8 < count, bytes[end + 8] != lf, bytes[end + 8] != cr else { break }
                        }
                        end += 8
                    }
                    while end < limit {
                        let byte = bytes[end]
                        if byte >= 33 && byte <= 126 && byte != 61 {
                            end += 1
                        } else if byte == 32 && end + 1 < count && bytes[end + 1] != lf && bytes[end + 1] != cr {
                            end += 1
                        } else {
                            break
                        }
                    }
                    if end > index {
                        let length = end - index
                        UnsafeMutableRawPointer(buffer.baseAddress! + write).copyMemory(
                            from: bytes.baseAddress! + index, byteCount: length)
                        write += length
                        column += length
                        index = end
                        continue
                    }
                }
                let byte = bytes[index]
                if byte == lf || (byte == cr && index + 1 < count && bytes[index + 1] == lf) {
                    buffer[write] = cr
                    buffer[write + 1] = lf
                    write += 2
                    column = 0
                    index += byte == cr ? 2 : 1
                    continue
                }
                let next = index + 1 < count ? bytes[index + 1] : lf
                let atLineEnd = next == lf || (next == cr && index + 2 < count && bytes[index + 2] == lf)
                var literal: Bool
                switch byte {
                case 33...60, 62...126: literal = column > 0 || !needsProtection(bytes, at: index)
                case 32, 9: literal = !atLineEnd
                default: literal = false
                }
                var width = literal ? 1 : 3
                // Keep room for the soft break "=" within 76 columns, unless this is the line's last character.
                if column + width > (atLineEnd ? 76 : 75) {
                    buffer[write] = UInt8(ascii: "=")
                    buffer[write + 1] = cr
                    buffer[write + 2] = lf
                    write += 3
                    column = 0
                    // The character now starts a line of its own, so it needs the same protection as any other.
                    if literal && needsProtection(bytes, at: index) {
                        literal = false
                        width = 3
                    }
                }
                if literal {
                    buffer[write] = byte
                    write += 1
                } else {
                    buffer[write] = UInt8(ascii: "=")
                    buffer[write + 1] = hex[Int(byte >> 4)]
                    buffer[write + 2] = hex[Int(byte & 0x0F)]
                    write += 3
                }
                column += width
                index += 1
            }
            initialized = write
        }
        output.append(contentsOf: encoded)
    }

    /// Whether every byte of `word` is in 32…126 and none is "=" (SWAR: each test sets a byte's high bit where it
    /// fails; the borrows and carries can only add false alarms, which fall back to the byte loop).
    @inline(__always)
    static func allLiteral(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below32 = (word &- ones &* 32) & ~word & highs
        let above126 = ((word &+ ones) | word) & highs
        let equals = word ^ (ones &* 61)
        let isEquals = (equals &- ones) & ~equals & highs
        return below32 | above126 | isEquals == 0
    }

    /// Whether the byte at `index` must be encoded when it starts a line: a dot (SMTP's end of data, RFC 5321
    /// §4.5.2) or the "F" of "From " (mbox readers turn it into ">From ").
    private static func needsProtection(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = bytes[index]
        if byte == UInt8(ascii: ".") { return true }
        return byte == UInt8(ascii: "F") && index + 4 < bytes.count && bytes[index + 1] == UInt8(ascii: "r")
            && bytes[index + 2] == UInt8(ascii: "o") && bytes[index + 3] == UInt8(ascii: "m")
            && bytes[index + 4] == UInt8(ascii: " ")
    }
}
