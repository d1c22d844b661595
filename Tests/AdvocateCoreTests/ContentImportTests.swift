import AdvocateCore
import Foundation
import Testing

@Suite("Content JSON validation")
struct ContentImportTests {
    let rules = ImportRules(
        defaultLanguage: .nl, defaultNetworks: [.linkedin], knownThemes: [],
        defaultWeek: try! ISOWeek(parsing: "2026-W49"), now: Date(timeIntervalSince1970: 0))

    @Test("items with weeks, per-network texts and defaults are read")
    func valid() throws {
        let json = """
            [
              {"url": "https://example.org/a?x=1#top", "title": "A  title\\nhere", "weeks": ["2026-W49", "2026-W50"],
               "texts": ["Plain", {"network": "x", "text": "For X"}]},
              {"url": "http://example.org/b", "title": "B"}
            ]
            """
        let result = try ContentImport.validate(json: Data(json.utf8), rules: rules)
        #expect(result.problems.isEmpty)
        let items = result.rows.map(\.value)
        #expect(items[0].title == "A title here")
        #expect(items[0].weeks.map(\.description) == ["2026-W49", "2026-W50"])
        #expect(items[0].texts == [SuggestedText(text: "Plain"), SuggestedText(network: .x, text: "For X")])
        #expect(items[1].weeks.map(\.description) == ["2026-W49"], "no week means the default week")
        #expect(result.rows.map(\.line) == [2, 4])
    }

    @Test("problems name the line of the item and the key")
    func problems() throws {
        let json = """
            [
              {"url": "ftp://example.org/a", "title": "A"},
              {"url": "https://example.org/b", "title": ""},
              {"url": "https://example.org/c", "title": "C", "week": "2027-W53"},
              {"url": "https://example.org/d", "title": "D", "texts": [{"network": "myspace", "text": "t"}]},
              {"url": "https://example.org/e", "title": "E", "colour": "red"},
              {"url": "https://example.org/f", "title": "F"},
              {"url": "https://example.org/f", "title": "F again"},
              {"url": "https://example.org/g", "title": 7}
            ]
            """
        let result = try ContentImport.validate(json: Data(json.utf8), rules: rules)
        #expect(result.rows.map(\.line) == [7])
        #expect(
            result.problems.map(\.description) == [
                "line 2, url: 'ftp://example.org/a' is not an absolute http(s) URL",
                "line 3, title: is missing",
                "line 4, week: '2027-W53' does not exist: that year has 52 ISO weeks",
                "line 5, texts: unknown network 'myspace' (use: \(Network.codes))",
                "line 6, colour: unknown key (allowed: \(ContentImport.keys.joined(separator: ", ")))",
                "line 8, url: duplicate URL, already on line 7",
                "line 9, title: must be a string",
            ])
    }

    @Test("a file that is not a JSON array is refused as a whole")
    func notArray() {
        #expect(throws: ContentImport.FileError.self) {
            try ContentImport.validate(json: Data("{\"url\": 1}".utf8), rules: rules)
        }
        #expect(throws: ContentImport.FileError.self) {
            try ContentImport.validate(json: Data("[{".utf8), rules: rules)
        }
    }

    @Test("a capitalised scheme is stored in lower case; other schemes, no host or spaces are refused")
    func schemes() {
        #expect(WebURL.validated("Https://example.org/A?b=C") == "https://example.org/A?b=C")
        #expect(WebURL.validated(" HTTP://example.org/x ") == "http://example.org/x")
        for bad in ["ftp://example.org/x", "https:///x", "https://exa mple.org/", "javascript:alert(1)"] {
            #expect(WebURL.validated(bad) == nil, "\(bad)")
        }
    }
}
