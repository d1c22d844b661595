import Advocate
import AdvocateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The click server in-process over a real SQLite file, sending its membership mails to a real SMTP server, with a
/// clock the test moves.
struct MembershipFixture {
    let directory: TempDirectory
    let smtp: SMTPServerProcess
    let clock: TestClock
    let context: AppContext
    let database: AppDatabase
    let server: ClickServer

    /// `membership` is the JSON object of the `membership` config key.
    init(
        membership: String = #"{"allowedDomains": ["acme.example"]}"#,
        publicBaseURL: String = "https://go.acme.example",
        smtpUser: String? = nil
    ) throws {
        directory = try TempDirectory()
        smtp = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        let configPath = try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "\(publicBaseURL)",
             "organization": "Acme & Zon",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "plan": {"themes": ["duurzaamheid", "werken-bij"],
                      "themeLabels": {"werken-bij": {"nl": "Werken bij Acme", "en": "Careers"}}},
             "membership": \(membership),
             "mail": {"transport": "smtp", "fromName": "Acme", "fromAddress": "ambassadors@acme.example",
                      "smtp": {"url": "smtp://127.0.0.1:\(smtp.port)", "startTLS": "off"\(
                          smtpUser.map { ", \"username\": \"\($0)\"" } ?? "")}}}
            """)
        let clock = TestClock()
        self.clock = clock
        context = try AppContext.load(
            configPath: configPath,
            environment: ["ADVOCATE_LINK_KEYS": testLinkKeys].merging(TestBackend.environment) { $1 },
            now: { clock.now })
        database = try context.openDatabase()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        server = try buildApplication(context: context, database: database, logger: logger)
    }

    /// Runs `body` against the application, then stops its click writer.
    func run(_ body: @Sendable (FormClient) async throws -> Void) async throws {
        defer { server.recorder.shutdown() }
        try await server.application.test(.router) { client in try await body(FormClient(client: client)) }
    }

    /// Waits until the server's background work is done: sign-up follow-ups and every mail they queued have
    /// reached the SMTP server (or failed). What has not arrived by then never will.
    func settle() async { await server.settle() }

    /// The messages the SMTP server received, parsed, once at least `count` have arrived (waits up to 30 s: the
    /// whole suite runs at once on two cores).
    func mails(atLeast count: Int) async throws -> [[String: Any]] {
        await waitUntilAsync(timeout: 30) { smtp.received().count >= count }
        return try smtp.parsedMessages()
    }

    /// The path (`/join/confirm/TOKEN`) of the confirmation link in the first mail the server sent, once it arrived;
    /// the server's base is `https://go.acme.example`.
    func confirmationPath() async throws -> String {
        try #require(try await confirmationPaths(atLeast: 1).first)
    }

    /// The paths of the confirmation links in the mails the server sent, in order, once `count` mails arrived.
    func confirmationPaths(atLeast count: Int) async throws -> [String] {
        let base = "https://go.acme.example"
        return try await mails(atLeast: count).compactMap { Self.link(in: $0, prefix: "\(base)/join/confirm/") }
            .map { String($0.dropFirst(base.count)) }
    }

    /// The first link in a mail's text part that starts with `prefix`.
    static func link(in mail: [String: Any], prefix: String) -> String? {
        let text = mail["text"] as? String ?? ""
        guard let start = text.range(of: prefix) else { return nil }
        return String(text[start.lowerBound...].prefix { !$0.isWhitespace })
    }
}

/// A browser-like client over Hummingbird's test client: it keeps the CSRF cookie and reads the form's token.
/// Sendable by hand: a client belongs to one test, which awaits each request before the next (the cookie stays in order).
final class FormClient: @unchecked Sendable {
    let client: any TestClientProtocol
    /// `__Host-advocate_csrf=…` (https) or `advocate_csrf=…`, once the server set it.
    var cookie: String?

    init(client: any TestClientProtocol) { self.client = client }

    /// A page; remembers the cookie it sets.
    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> (status: HTTPResponse.Status, body: String) {
        var fields = headers
        if let cookie { fields[.cookie] = cookie }
        let response = try await client.execute(uri: uri, method: .get, headers: fields)
        remember(response)
        return (response.status, String(buffer: response.body))
    }

    /// Posts a form as a browser would, with the cookie and (unless `csrf` is given) the page's token.
    func post(
        _ uri: String, _ fields: [(String, String)], csrf: String? = nil, cookie override: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, body: String, contentType: String?, disposition: String?) {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let cookie = override ?? cookie { headers[.cookie] = cookie }
        let token = csrf ?? cookie.map { String($0.drop { $0 != "=" }.dropFirst()) } ?? ""
        let body = ([("csrf", token)] + fields).map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        let response = try await client.execute(
            uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        remember(response)
        return (
            response.status, String(buffer: response.body), response.headers[.contentType],
            response.headers[HTTPField.Name("Content-Disposition")!]
        )
    }

    private func remember(_ response: TestResponse) {
        guard let set = response.headers[.setCookie],
            set.hasPrefix("__Host-advocate_csrf=") || set.hasPrefix("advocate_csrf=")
        else { return }
        cookie = String(set.prefix { $0 != ";" })
    }

    private func encode(_ text: String) -> String { ShareIntent.percentEncode(text) }
}

/// The value of a hidden or text input named `name` in an HTML page.
func inputValue(_ name: String, in page: String) -> String? {
    guard let input = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
    return String(page[input.upperBound...].prefix { $0 != "\"" })
}
