import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("Joining and preferences in real headless Chromium", .serialized)
struct MembershipBrowserTests {
    @Test(
        "a colleague on a 375 px phone joins, confirms and changes preferences; the pages pass the accessibility checks",
        arguments: ["nl", "en"])
    func joinAndPreferences(language: String) throws {
        let directory = try TempDirectory()
        let smtp = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        // The browser talks to the server directly over http, so publicBaseURL is the server's own address (with
        // https the CSRF cookie would be Secure, which a browser keeps only over https).
        let port = try freeLoopbackPort()
        let publicBase = "http://127.0.0.1:\(port)"
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "\(publicBase)",
             "organization": "Acme Energie", "server": {"host": "127.0.0.1", "port": \(port)},
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "plan": {"themes": ["duurzaamheid", "werken-bij"],
                      "themeLabels": {"werken-bij": {"nl": "Werken bij Acme", "en": "Careers"}}},
             "membership": {"allowedDomains": ["acme.example"]},
             "mail": {"transport": "smtp", "fromAddress": "ambassadors@acme.example",
                      "smtp": {"url": "smtp://127.0.0.1:\(smtp.port)", "startTLS": "off"}}}
            """)
        let server = try ServerProcess(directory: directory.url)
        defer { server.stop() }
        let address = "sam.\(language)@acme.example"
        let pause = CalendarDay(Date().addingTimeInterval(60 * 86_400), in: TimeZone(identifier: "Europe/Amsterdam")!)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            packageRoot.appendingPathComponent("Tests/Fixtures/membership_browser.py").path, server.baseURL,
            publicBase, smtp.directory.path, packageRoot.appendingPathComponent("artifacts").path,
            language, address, pause.description,
        ]
        let output = Pipe()
        process.standardOutput = output
        let errors = try directory.write("browser.err", "")
        process.standardError = FileHandle(forWritingAtPath: errors)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let trace = (try? String(contentsOfFile: errors, encoding: .utf8))?.split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.suffix(12).joined(separator: "\n")
        #expect(process.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self)) \(trace ?? "")")
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(report["viewportWidth"] as? Int == 375)
        let audits = try #require(report["audits"] as? [String: [String]])
        #expect(audits.count == 2)
        for (page, problems) in audits { #expect(problems.isEmpty, "\(page): \(problems)") }
        let pages = try #require(report["pages"] as? [String: String])
        let dutch = language == "nl"
        #expect(pages["afterJoin"] == (dutch ? "Kijk in je mailbox" : "Check your inbox"))
        #expect(pages["confirm"] == (dutch ? "Bevestig je aanmelding" : "Confirm your sign-up"))
        #expect(pages["afterConfirm"] == (dutch ? "Welkom!" : "Welcome aboard!"))
        #expect(pages["notice"]?.hasPrefix(dutch ? "Bewaard." : "Saved.") == true)

        let database = try directory.openDatabase()
        let sam = try #require(try database.ambassador(email: address))
        #expect(sam.status == .active && sam.language.rawValue == language)
        #expect(sam.themes == ["werken-bij"])
        #expect(sam.networks == [.linkedin], "WhatsApp was chosen on joining and dropped on the preferences page")
        #expect(sam.schedule.frequency == .biweekly)
        #expect(sam.schedule.pausedUntil == pause)
        #expect(sam.leaderboardOptIn)
    }
}
