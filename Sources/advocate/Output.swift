import Foundation

/// Printing helpers shared by the listing commands.
enum Output {
    /// Prints a value as pretty JSON with sorted keys and ISO-8601 dates.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints rows as a table with aligned columns, headers first.
    static func table(headers: [String], rows: [[String]], rightAligned: Bool = false) {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                if rightAligned && index > 0 { return pad + cell }
                return index == cells.count - 1 ? cell : cell + pad
            }.joined(separator: "  ")
        }
        print(line(headers))
        for row in rows { print(line(row)) }
    }
}
