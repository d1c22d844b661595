/// One CSV record and the line of the file it starts on (1-based), so errors can point at it.
public struct CSVRecord: Sendable, Equatable {
    /// The line the record starts on.
    public var line: Int
    /// The fields, unquoted.
    public var fields: [String]
}

/// Why a CSV file could not be read at all.
public struct CSVSyntaxError: Error, CustomStringConvertible, Equatable {
    /// The line where the problem is.
    public var line: Int
    /// What is wrong.
    public var reason: String

    /// Creates an error.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

/// An RFC 4180 reader: quoted fields with commas, doubled quotes and line breaks inside, CRLF or LF line ends,
/// an optional UTF-8 byte-order mark. Blank lines are skipped.
public enum CSVParser {
    /// Splits `text` into records.
    public static func parse(_ text: String) throws(CSVSyntaxError) -> [CSVRecord] {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }

        var records: [CSVRecord] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var afterQuote = false  // just closed a quoted field: only a separator may follow
        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endRecord() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            if !(fields.count == 1 && fields[0].isEmpty) {
                records.append(CSVRecord(line: recordLine, fields: fields))
            }
            fields = []
        }

        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let following = iterator.next()
                    if following == "\"" {
                        field.append("\"")
                    } else {
                        inQuotes = false
                        afterQuote = true
                        pending = following
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                fields.append(String(field))
                field = String.UnicodeScalarView()
                afterQuote = false
            case "\r":
                let following = iterator.next()
                if following != "\n" { pending = following }
                endRecord()
                line += 1
                recordLine = line
                afterQuote = false
            case "\n":
                endRecord()
                line += 1
                recordLine = line
                afterQuote = false
            case "\"" where field.isEmpty && !afterQuote:
                inQuotes = true
            default:
                if afterQuote {
                    throw CSVSyntaxError(line: line, reason: "unexpected text after a closing quote")
                }
                field.append(scalar)
            }
        }
        if inQuotes {
            throw CSVSyntaxError(line: recordLine, reason: "a quoted field is never closed")
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
