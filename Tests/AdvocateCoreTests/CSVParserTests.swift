import AdvocateCore
import Testing

@Suite("CSV parser")
struct CSVParserTests {
    @Test("quoted fields keep commas, quotes and line breaks; records remember their first line")
    func quoted() throws {
        let text = "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",z\r\n"
        let records = try CSVParser.parse(text)
        #expect(records.map(\.fields) == [["a", "b"], ["x, y", "say \"hi\""], ["two\nlines", "z"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    @Test("a byte-order mark is dropped and a missing final newline is fine")
    func bom() throws {
        let records = try CSVParser.parse("\u{FEFF}email,name\nzoe@example.org,Zoë")
        #expect(records.map(\.fields) == [["email", "name"], ["zoe@example.org", "Zoë"]])
    }

    @Test("blank lines are skipped but still counted for line numbers")
    func blankLines() throws {
        let records = try CSVParser.parse("a\n\n\nb\n")
        #expect(records.map(\.line) == [1, 4])
    }

    @Test("an unclosed quote is a syntax error naming its line")
    func unclosed() {
        #expect(throws: CSVSyntaxError(line: 2, reason: "a quoted field is never closed")) {
            try CSVParser.parse("a,b\n\"open,b\nc,d\n")
        }
    }

    @Test("text after a closing quote is a syntax error")
    func textAfterQuote() {
        #expect(throws: CSVSyntaxError.self) { try CSVParser.parse("\"a\"b,c\n") }
    }
}
