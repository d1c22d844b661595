import Foundation
import Testing

@Suite("Real digests against SpamAssassin (local rules)", .serialized)
struct SpamAssassinTests {
    @Test("Dutch and English digests score 0 points: no rule fires on them")
    func noPoints() throws {
        let directory = try TempDirectory()
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
             "organization": "Acme Energie", "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "mail": {"fromName": "Acme Ambassadeurs", "fromAddress": "ambassadeurs@acme.example",
                      "replyTo": "communicatie@acme.example"}}
            """)
        try directory.write(
            "people.csv",
            "email,name,language,themes,networks\nzoe@example.org,Zoë d'Hondt,en,,linkedin;x;whatsapp\n"
                + "bas@example.org,Bas de Vries,nl,,linkedin;facebook;email\n")
        try directory.write(
            "content.json",
            String(contentsOf: packageRoot.appendingPathComponent("demo/content.json"), encoding: .utf8))
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        #expect(try advocate(["content", "import", "content.json"], in: directory.url).status == 0)
        let week =
            try JSONSerialization.jsonObject(
                with: Data(try advocate(["content", "list", "--json"], in: directory.url).stdout.utf8))
            as? [[String: Any]]
        let firstWeek = try #require((week?.first?["weeks"] as? [String])?.first)
        let dry = try advocate(["digest", "send", "--week", firstWeek, "--dry-run", "out"], in: directory.url)
        #expect(dry.status == 0, "\(dry.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path("out")).filter {
            $0.hasSuffix(".eml")
        }
        #expect(files.count == 2)
        for file in files {
            let report = try spamassassin(directory.path("out/\(file)"))
            let score = try #require(
                report.range(of: #"X-Spam-Status: (Yes|No), score=(-?[0-9.]+)"#, options: .regularExpression).map {
                    Double(report[$0].split(separator: "=").last ?? "") ?? 99
                }, "\(report.prefix(2000))")
            let rules = report.components(separatedBy: "\n").filter {
                $0.range(of: #"^\s*-?[0-9.]+ [A-Z_0-9]+ "#, options: .regularExpression) != nil
            }
            #expect(score == 0, "\(file) scored \(score): \(rules)")
            // Only informational rules of 0 points may show (NO_RECEIVED, HTML_MESSAGE…); none that scores.
            let scoring = rules.filter {
                !$0.trimmingCharacters(in: .whitespaces).hasPrefix("0.0") && !$0.contains("-0.0")
            }
            #expect(scoring.isEmpty, "\(file): rules with points fired: \(scoring)")
        }
    }

    func spamassassin(_ file: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/spamassassin")
        process.arguments = ["-t", "-L"]
        process.standardInput = FileHandle(forReadingAtPath: file)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
