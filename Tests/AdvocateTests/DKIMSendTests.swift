import Foundation
import Testing

@Suite("DKIM-signed digests, checked by an independent verifier", .serialized)
struct DKIMSendTests {
    @Test("keygen writes the keys and prints the records; every sent digest verifies with both signatures")
    func signedThroughTheRelay() throws {
        let directory = try TempDirectory()
        let server = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        var config = smtpConfig(port: server.port, certificate: nil, username: nil)
        config = config.replacingOccurrences(
            of: "\"fromAddress\": \"ambassadors@acme.example\",",
            with: """
                "fromAddress": "ambassadors@acme.example", "envelopeFrom": "bounces@acme.example",
                "dkim": {"selector": "adv2026"},
                """)
        config = config.replacingOccurrences(
            of: "{\"databasePath\"", with: "{\"secretsFile\": \"data/secrets.env\", \"databasePath\"")
        try directory.write("config.json", config)
        // A secrets file keygen cannot read (not UTF-8 here) is left as it is, link keys and all.
        try FileManager.default.createDirectory(
            at: directory.url.appendingPathComponent("data"), withIntermediateDirectories: true)
        let unreadable = Data("ADVOCATE_LINK_KEYS=\(testLinkKeys)\n# caf".utf8) + Data([0xE9, 0x0A])
        try unreadable.write(to: directory.url.appendingPathComponent("data/secrets.env"))
        let refused = try advocate(["dkim", "keygen"], in: directory.url)
        #expect(refused.status != 0 && refused.stderr.contains("secrets.env cannot be read"), "\(refused.stderr)")
        #expect(try Data(contentsOf: directory.url.appendingPathComponent("data/secrets.env")) == unreadable)
        try directory.write("data/secrets.env", "ADVOCATE_LINK_KEYS=\(testLinkKeys)\n")
        let keygen = try advocate(["dkim", "keygen", "--ed25519"], in: directory.url)
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let secrets = try String(contentsOfFile: directory.path("data/secrets.env"), encoding: .utf8)
        #expect(secrets.contains("ADVOCATE_DKIM_RSA_KEY=") && secrets.contains("ADVOCATE_DKIM_ED25519_KEY="))
        #expect(secrets.contains("ADVOCATE_LINK_KEYS=\(testLinkKeys)\n"), "the link keys are kept")
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path("data/secrets.env"))[
            .posixPermissions]
        #expect((mode as? Int) == 0o600)
        var records: [String: String] = [:]
        for line in keygen.stdout.split(separator: "\n") where line.contains("._domainkey.") {
            let parts = line.components(separatedBy: "  TXT  ")
            records[parts[0] + "."] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        #expect(records.keys.sorted() == ["adv2026-ed._domainkey.acme.example.", "adv2026._domainkey.acme.example."])
        #expect(records["adv2026._domainkey.acme.example."]?.hasPrefix("v=DKIM1; k=rsa; p=MII") == true)
        #expect(records["adv2026-ed._domainkey.acme.example."]?.hasPrefix("v=DKIM1; k=ed25519; p=") == true)

        try directory.write(
            "people.csv",
            "email,name,language,themes,networks\nzoe@example.org,Zoë d'Hondt,en,,linkedin;x\nbo@example.org,Bo,nl,,x\n"
        )
        try directory.write(
            "content.json",
            """
            [{"url": "https://acme.example/zon", "title": "Zonnepark open ☀️", "week": "2026-W49",
              "summary": "Stroom voor 4.000 huishoudens", "texts": ["Trots op het team!"]}]
            """)
        _ = try advocate(["ambassadors", "import", "people.csv"], in: directory.url)
        _ = try advocate(["content", "import", "content.json"], in: directory.url)
        let send = try advocate(["digest", "send", "--week", "2026-W49"], in: directory.url)
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")
        #expect(server.senders() == ["bounces@acme.example", "bounces@acme.example"], "bounces go to envelopeFrom")

        let recordsFile = try directory.write(
            "records.json", String(decoding: try JSONSerialization.data(withJSONObject: records), as: UTF8.self))
        let files = try FileManager.default.contentsOfDirectory(atPath: server.directory.path)
            .filter { $0.hasSuffix(".eml") }.map { server.directory.appendingPathComponent($0).path }.sorted()
        #expect(files.count == 2)
        let results = try verify(recordsFile, files)
        for file in files {
            let signatures = results[file] ?? []
            #expect(signatures.map { $0["algorithm"] as? String } == ["ed25519-sha256", "rsa-sha256"], "\(file)")
            #expect(signatures.allSatisfy { $0["verified"] as? Bool == true }, "\(file): \(signatures)")
            let headers = (signatures.first?["headers"] as? String ?? "").filter { !$0.isWhitespace }.split(
                separator: ":")
            for name in [
                "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-unsubscribe",
                "list-unsubscribe-post",
            ] {
                #expect(headers.contains(Substring(name)), "\(name) is signed")
            }
        }

        // Membership mail is signed the same way: an invitation, through the relay.
        #expect(try advocate(["invite", "new@example.org"], in: directory.url).status == 0)
        let invitation = try #require(
            try FileManager.default.contentsOfDirectory(atPath: server.directory.path).filter { $0.hasSuffix(".eml") }
                .map { server.directory.appendingPathComponent($0).path }.first { !files.contains($0) })
        let invited = try verify(recordsFile, [invitation])[invitation] ?? []
        #expect(invited.count == 2 && invited.allSatisfy { $0["verified"] as? Bool == true }, "\(invited)")

        // The verifier really checks: one changed byte in the subject fails both signatures.
        let tampered = directory.path("tampered.eml")
        let original = try String(contentsOfFile: files[0], encoding: .utf8)
        try original.replacingOccurrences(of: "Subject: ", with: "Subject: FREE ").write(
            toFile: tampered, atomically: true, encoding: .utf8)
        let broken = try verify(recordsFile, [tampered])
        #expect(broken[tampered]?.count == 2)
        #expect(broken[tampered]?.allSatisfy { $0["verified"] as? Bool == false } == true)
        // A header added on top (a second Subject, a Reply-To) breaks them too: those are signed once more than
        // they occur (RFC 6376 §8.15).
        for added in ["Subject: FREE MONEY\r\n", "Reply-To: <thief@evil.example>\r\n"] {
            let file = directory.path("added.eml")
            try (added + original).write(toFile: file, atomically: true, encoding: .utf8)
            let result = try verify(recordsFile, [file])
            #expect(result[file]?.count == 2 && result[file]?.allSatisfy { $0["verified"] as? Bool == false } == true)
        }
    }

    func verify(_ records: String, _ files: [String]) throws -> [String: [[String: Any]]] {
        let data = try runFixture("Tests/Fixtures/verify_dkim.py", [records] + files)
        return try JSONSerialization.jsonObject(with: data) as? [String: [[String: Any]]] ?? [:]
    }
}
