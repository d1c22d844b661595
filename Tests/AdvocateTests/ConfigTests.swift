import Foundation
import Testing

@testable import Advocate

@Suite("Configuration")
struct ConfigTests {
    func decode(_ json: String) throws -> AdvocateConfig {
        try ConfigLoader.decode(Data(json.utf8))
    }

    @Test("an empty object is a valid configuration with the documented defaults")
    func defaults() throws {
        let config = try decode("{}")
        #expect(config.timeZone.identifier == "Europe/Amsterdam")
        #expect(config.mail.transport == .outbox)
        #expect(config.mail.smtp.connections == 4)
        #expect(config.defaultLanguage == .nl)
    }

    @Test("a feed's theme is lower-cased as the plan's and the ambassadors' are, so that it matches them")
    func feedThemeCase() throws {
        let config = try decode(
            "{\"plan\": {\"themes\": [\"Duurzaamheid\"]}, \"feeds\": [{\"url\": \"https://a.example/f\", \"theme\": \"Duurzaamheid\"}]}"
        )
        #expect(config.plan.themes == ["duurzaamheid"])
        #expect(config.feeds.first?.theme == "duurzaamheid")
    }

    @Test("plain http is accepted for loopback addresses only")
    func loopbackHTTP() throws {
        for url in ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9000", "https://go.acme.example"] {
            #expect(try decode("{\"publicBaseURL\": \"\(url)\"}").publicBaseURL == url)
        }
    }

    @Test("the shipped config.json loads without edits")
    func shipped() throws {
        let (config, _) = try ConfigLoader.load(
            path: packageRoot.appendingPathComponent("config.json").path, environment: [:])
        #expect(config.mail.transport == .outbox)
        #expect(config.resolve(config.databasePath).path.hasSuffix("/data/advocate.sqlite"))
    }

    @Test(
        "each kind of mistake names its key",
        arguments: [
            ("{\"databsePath\": \"x\"}", "config key 'databsePath' is unknown"),
            ("{\"mail\": {\"smtp\": {\"conections\": 2}}}", "config key 'mail.smtp.conections' is unknown"),
            ("{\"server\": {\"port\": \"80\"}}", "config key 'server.port' has the wrong type: expected a number"),
            (
                "{\"mail\": {\"smtp\": {\"connections\": true}}}",
                "config key 'mail.smtp.connections' has the wrong type"
            ),
            ("{\"defaultNetworks\": [\"linkedin\", 3]}", "config key 'defaultNetworks[1]' has the wrong type"),
            ("{\"publicBaseURL\": \"not a url\"}", "config key 'publicBaseURL' is invalid"),
            ("{\"publicBaseURL\": \"ftp://example.org\"}", "config key 'publicBaseURL' is invalid"),
            ("{\"publicBaseURL\": \"http://go.acme.example\"}", "'http://go.acme.example' must use https"),
            ("{\"publicBaseURL\": \"http://10.0.0.5:8080\"}", "must use https"),
            ("{\"publicBaseURL\": \"http://127.evil.example\"}", "must use https"),
            (
                "{\"mail\": {\"fromAddress\": \"a@acme.example\", \"dkim\": {\"selector\": \"s\", \"domain\": \"other.example\"}}}",
                "config key 'mail.dkim.domain' is invalid: 'other.example' must be the domain of mail.fromAddress"
            ),
            ("{\"mail\": {\"dkim\": {\"selector\": \"bad selector\"}}}", "config key 'mail.dkim.selector' is invalid"),
            (
                "{\"mail\": {\"dkim\": {\"selector\": \"s\u{E9}lecteur\"}}}",
                "config key 'mail.dkim.selector' is invalid"
            ),
            ("{\"mail\": {\"envelopeFrom\": \"bounces\"}}", "config key 'mail.envelopeFrom' is invalid"),
            (
                "{\"membership\": {\"allowedDomains\": [\"@acme\"]}}",
                "config key 'membership.allowedDomains[0]' is invalid"
            ),
            ("{\"membership\": {\"signupExpiryDays\": 0}}", "config key 'membership.signupExpiryDays' is invalid"),
            ("{\"links\": {\"resubscribeWeeks\": 0}}", "config key 'links.resubscribeWeeks' is invalid"),
            ("{\"mail\": {\"smtp\": {\"url\": \"http://relay\"}}}", "config key 'mail.smtp.url' is invalid"),
            (
                "{\"defaultNetworks\": [\"linkedin\", \"myspace\"]}",
                "config key 'defaultNetworks[1]' is invalid: unknown network 'myspace'"
            ),
            ("{\"timeZone\": \"Mars/Olympus\"}", "config key 'timeZone' is invalid"),
            ("{\"mail\": {\"transport\": \"pigeon\"}}", "config key 'mail.transport' is invalid"),
            ("{\"mail\": {\"fromAddress\": \"nobody\"}}", "config key 'mail.fromAddress' is invalid"),
            ("{\"mail\": {\"smtp\": {\"connections\": 0}}}", "config key 'mail.smtp.connections' is invalid"),
            ("{\"mail\": {\"smtp\": {\"inDoubtShare\": 0}}}", "config key 'mail.smtp.inDoubtShare' is invalid"),
            ("{\"mail\": {\"smtp\": {\"inDoubtShare\": 1.5}}}", "config key 'mail.smtp.inDoubtShare' is invalid"),
            ("{\"server\": ", "is not valid JSON"),
            (
                "{\"feeds\": [{\"url\": \"https://a.example/f\"}, {\"theme\": \"x\"}]}",
                "config key 'feeds[1].url' is missing"
            ),
            (
                "{\"feeds\": [{\"url\": \"https://a.example/f\", \"shedule\": \"draft\"}]}",
                "config key 'feeds[0].shedule' is unknown"
            ),
            ("{\"feeds\": [{\"url\": \"ftp://a.example/f\"}]}", "config key 'feeds[0].url' is invalid"),
            ("{\"mail\": {\"smtp\": {\"url\": \"smtp://relay?x=1\"}}}", "config key 'mail.smtp.url' is invalid"),
            (
                "{\"plan\": {\"themes\": [\"careers\"], \"themeLabels\": {\"careers\": {\"NL\": \"Werken bij\"}}}}",
                "config key 'plan.themeLabels.careers.NL' is invalid: 'NL' is not a language code"
            ),
        ])
    func mistakes(json: String, message: String) {
        do {
            _ = try decode(json)
            Issue.record("expected an error for \(json)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test("with a user name STARTTLS is required unless turned off; a trailing slash leaves the relay's URL")
    func smtpSecurity() throws {
        #expect {
            try decode(#"{"mail": {"smtp": {"url": "smtp://user:S3cret@relay.example:587"}}}"#)
        } throws: { error in
            "\(error)".contains("mail.smtp.url") && !"\(error)".contains("S3cret")
        }
        #expect(try decode(#"{"mail": {"smtp": {"username": "u"}}}"#).mail.smtp.startTLS == .required)
        #expect(
            try decode(#"{"mail": {"smtp": {"username": "u", "startTLS": "opportunistic"}}}"#).mail.smtp.startTLS
                == .required)
        #expect(try decode(#"{"mail": {"smtp": {"username": "u", "startTLS": "off"}}}"#).mail.smtp.startTLS == .off)
        #expect(try decode(#"{"mail": {"smtp": {}}}"#).mail.smtp.startTLS == .opportunistic, "no password at stake")
        #expect(
            try decode(#"{"mail": {"smtp": {"url": "smtp://relay.example:587/"}}}"#).mail.smtp.url
                == "smtp://relay.example:587")
    }

    @Test("a missing file, and a missing SMTP password once mail is sent, are named")
    func missingThings() throws {
        let directory = try TempDirectory()
        #expect(throws: ConfigError.fileNotFound(path: directory.path("nope.json"))) {
            try ConfigLoader.load(path: directory.path("nope.json"), environment: [:])
        }
        let path = try directory.write(
            "config.json", "{\"mail\": {\"transport\": \"smtp\", \"smtp\": {\"username\": \"advocate\"}}}")
        let context = try AppContext.load(configPath: path, environment: [:])
        do {
            _ = try context.makeTransport()
            Issue.record("expected a missing-secret error")
        } catch {
            #expect(
                "\(error)".hasPrefix(
                    "missing secret ADVOCATE_SMTP_PASSWORD (needed by config key 'mail.smtp.username')"))
        }
        #expect(throws: Never.self) {
            try AppContext.load(configPath: path, environment: ["ADVOCATE_SMTP_PASSWORD": "s3cret"]).makeTransport()
        }
    }

    @Test("link keys come from the environment or the secrets file, never from config.json")
    func secrets() throws {
        let directory = try TempDirectory()
        let path = try directory.write("config.json", "{\"secretsFile\": \"private/secrets.env\"}")
        let (config, none) = try ConfigLoader.load(path: path, environment: [:])
        #expect(throws: ConfigError.self) { try none.linkKeys() }
        let created = try #require(try Secrets.createFileIfMissing(config: config))
        #expect(created.path == directory.path("private/secrets.env"))
        let mode = try FileManager.default.attributesOfItem(atPath: created.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (_, fromFile) = try ConfigLoader.load(path: path, environment: [:])
        #expect(try fromFile.linkKeys().current.id == 1)
        let (_, fromEnvironment) = try ConfigLoader.load(
            path: path, environment: ["ADVOCATE_LINK_KEYS": "9:" + String(repeating: "A", count: 43)])
        #expect(try fromEnvironment.linkKeys().current.id == 9, "the environment wins over the file")
        #expect(try Secrets.createFileIfMissing(config: config) == nil, "an existing file is never overwritten")
    }

    @Test("a secret left empty in the secrets file is no secret: an empty admin token opens nothing")
    func emptySecret() throws {
        let directory = try TempDirectory()
        let path = try directory.write("config.json", "{\"secretsFile\": \"secrets.env\"}")
        try directory.write("secrets.env", "ADVOCATE_ADMIN_TOKEN=\nADVOCATE_SMTP_PASSWORD=  \n")
        let (_, secrets) = try ConfigLoader.load(path: path, environment: [:])
        #expect(secrets.adminToken == nil)
        #expect(secrets.smtpPassword == nil)
        try directory.write("secrets.env", "ADVOCATE_ADMIN_TOKEN=t0ken\n")
        #expect(try ConfigLoader.load(path: path, environment: [:]).1.adminToken == "t0ken")
        // A file edited on Windows (CR LF) is read line by line too, its comment line included.
        try directory.write("secrets.env", "# made by advocate init\r\nADVOCATE_ADMIN_TOKEN=t0ken\r\n")
        #expect(try ConfigLoader.load(path: path, environment: [:]).1.adminToken == "t0ken")
        // Basic auth with an empty password (":" is "Og==") against an empty token.
        #expect(!AdminAuth.allows("Basic Og==", token: ""))
        #expect(!AdminAuth.allows("Bearer ", token: ""))
        #expect(AdminAuth.allows("Basic \(Data(":t0ken".utf8).base64EncodedString())", token: "t0ken"))
        // A secrets file that is there but not readable text is an error, never "no secrets".
        try directory.write("secrets.env", "ADVOCATE_LINK_KEYS=\u{FF}")
        try Data([0x41, 0x3D, 0xFF, 0xFE, 0x0A]).write(to: directory.url.appendingPathComponent("secrets.env"))
        #expect {
            try ConfigLoader.load(path: path, environment: [:])
        } throws: { "\($0)".contains("cannot be read (its permissions?) or is not UTF-8 text") }
        try directory.write("secrets.env", "ADVOCATE_ADMIN_TOKEN=t0ken\n")
        // A server refuses to start with a token that short: guesses at it are not rate-limited.
        #expect {
            try ConfigLoader.load(path: path, environment: [:]).1.checkedAdminToken()
        } throws: { "\($0)".contains("ADVOCATE_ADMIN_TOKEN' is invalid: must be at least 16 characters") }
        let long = "0123456789abcdef"
        #expect(
            try ConfigLoader.load(path: path, environment: ["ADVOCATE_ADMIN_TOKEN": long]).1.checkedAdminToken() == long
        )
    }
}
