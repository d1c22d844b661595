import AdvocateCore
import Foundation
import Testing

@Suite("Ambassador CSV validation")
struct AmbassadorImportTests {
    let rules = ImportRules(
        defaultLanguage: .nl, defaultNetworks: [.linkedin, .email], knownThemes: ["duurzaamheid", "werken-bij"],
        defaultWeek: try! ISOWeek(parsing: "2026-W49"), now: Date(timeIntervalSince1970: 0))

    @Test("UTF-8 names, quoted commas, CRLF and a BOM all import")
    func awkwardButValid() throws {
        let csv =
            "\u{FEFF}email,name,language,themes,networks\r\n"
            + "Stephan@Example.org,Stéphan Lam,en,duurzaamheid;werken-bij,linkedin;x\r\n"
            + "zoe@example.org,\"Zoë d'Hondt, PR\",,,\r\n"
            + "rien@example.org,\"Rien\nBongers\",nl,,whatsapp\r\n"
        let result = try AmbassadorImport.validate(csv: csv, rules: rules)
        #expect(result.problems.isEmpty)
        let people = result.rows.map(\.value)
        #expect(people.map(\.email) == ["stephan@example.org", "zoe@example.org", "rien@example.org"])
        #expect(people[0].name == "Stéphan Lam")
        #expect(people[0].themes == ["duurzaamheid", "werken-bij"])
        #expect(people[0].networks == [.linkedin, .x])
        #expect(people[1].name == "Zoë d'Hondt, PR")
        #expect(people[1].language == .nl)
        #expect(people[1].networks == [.linkedin, .email])
        #expect(people[2].name == "Rien Bongers", "a line break inside a name becomes a space")
        #expect(people[1].firstName == "Zoë")
    }

    @Test("a spreadsheet's filler rows are skipped, and a cell of only separators says nothing (keeps what is stored)")
    func spreadsheetLeftovers() throws {
        let csv =
            "email,name,language,themes,networks\n" + "ann@example.org,Ann,, ; ,;\n" + ",,,,\n" + " , ,,;,\n"
        let result = try AmbassadorImport.validate(csv: csv, rules: rules)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.rows.map(\.value.email) == ["ann@example.org"])
        #expect(result.rows.first?.blank == ["language", "themes", "networks"])
    }

    @Test("every invalid row is reported with its line and field")
    func problems() throws {
        let csv = """
            email,name,language,themes,networks
            ok@example.org,Ok,nl,,
            not-an-email,Bad,nl,,
            fr@example.org,French,fr,,
            net@example.org,Net,en,,linkedin;myspace
            OK@example.org,Again,nl,,
            theme@example.org,Theme,nl,golf,
            short@example.org,Short
            """
        let result = try AmbassadorImport.validate(csv: csv, rules: rules)
        #expect(result.rows.map(\.line) == [2])
        #expect(
            result.problems.map(\.description) == [
                "line 3, email: 'not-an-email' is not a valid e-mail address",
                "line 4, language: unknown language 'fr' (use: nl, en)",
                "line 5, networks: unknown network 'myspace' (use: \(Network.codes))",
                "line 6, email: duplicate e-mail 'ok@example.org', already on line 2",
                "line 7, themes: unknown theme 'golf' (the plan has: duurzaamheid, werken-bij)",
                "line 8: expected 5 fields, found 2",
            ])
    }

    @Test("a header with an unknown column is rejected as a whole")
    func badHeader() {
        #expect(throws: CSVSyntaxError.self) {
            try AmbassadorImport.validate(csv: "email,nmae\na@example.org,A\n", rules: rules)
        }
    }

    @Test(
        "addresses are normalised and implausible ones refused",
        arguments: [
            (" Anke@Example.ORG ", "anke@example.org"), ("a.b+tag@sub.example.nl", "a.b+tag@sub.example.nl"),
            ("a@b", nil), ("a@@b.nl", nil), ("a b@example.org", nil), ("a@example.org\r\nBcc: x@y.z", nil),
            ("<a@example.org>", nil), (".a@example.org", nil), ("a@-example.org", nil),
            // ASCII only: no SMTPUTF8 needed, no Unicode line separator or C1 control in a header.
            ("zoë@example.org", nil), ("a@bäckerei.de", nil), ("a@xn--bckerei-wxa.de", "a@xn--bckerei-wxa.de"),
            ("a\u{2028}b@example.org", nil), ("a\u{85}b@example.org", nil),
        ])
    func addresses(raw: String, expected: String?) {
        #expect(EmailAddress.normalized(raw) == expected)
    }
}
