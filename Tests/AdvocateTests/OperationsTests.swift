import Advocate
import AdvocateCore
import Foundation
import Testing

/// Metrics as a real scraper reads them: Prometheus' text parsed by the reference client's parser.
struct ScrapedMetrics {
    var types: [String: String]
    var samples: [(name: String, labels: [String: String], value: Double)]

    init(_ text: String) throws {
        let directory = try TempDirectory()
        let file = try directory.write("metrics.txt", text)
        let output = try runFixture("Tests/Fixtures/parse_metrics.py", [file])
        let parsed = try? JSONSerialization.jsonObject(with: output) as? [String: Any]
        let json = try #require(parsed, "the parser refused:\n\(text)")
        types = json["families"] as? [String: String] ?? [:]
        samples = (json["samples"] as? [[String: Any]] ?? []).map {
            ($0["name"] as? String ?? "", $0["labels"] as? [String: String] ?? [:], $0["value"] as? Double ?? .nan)
        }
    }

    /// The value of the sample with this name and exactly these labels.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}

@Suite("Operations: Prometheus metrics, JSON logs", .serialized)
struct OperationsTests {
    @Test("GET /metrics: requests by route, clicks by class, the click writer's batches; only for the admin token")
    func serverMetrics() throws {
        let server = ServerTests()
        let (directory, process, database) = try server.start(
            environment: [
                "ADVOCATE_ADMIN_TOKEN": "metrics-token-0123456789", "LOG_LEVEL": "info", "LOG_FORMAT": "json",
            ],
            errors: "serve.log")
        defer { withExtendedLifetime(directory) {} }
        defer { process.stop() }
        let tokens = try server.tokens(database)
        let share = try #require(tokens.first { $0.kind == "s" }?.token)  // LinkedIn: the share page
        let visit = try #require(tokens.first { $0.kind == "l" }?.token)
        #expect(try http("\(process.baseURL)/s/\(share)").status == 200)
        #expect(try http("\(process.baseURL)/l/\(visit)").status == 302)
        #expect(try http("\(process.baseURL)/l/\(visit)x").status == 404)
        #expect(try http("\(process.baseURL)/no/such/path").status == 404)

        #expect(try http("\(process.baseURL)/metrics").status == 401)
        #expect(try http("\(process.baseURL)/metrics", headers: ["Authorization: Bearer wrong"]).status == 401)
        let answer = try http(
            "\(process.baseURL)/metrics", headers: ["Authorization: Bearer metrics-token-0123456789"])
        #expect(answer.status == 200)
        #expect(!answer.body.contains(share) && !answer.body.contains(visit), "no token in a label")

        let metrics = try ScrapedMetrics(answer.body)
        let classes = try database.clickCounts()
        for kind in ["share", "visit"] {
            let stored = classes.filter { $0.key.hasPrefix(kind) }.values.reduce(0, +)
            let scraped = metrics.samples.filter { $0.name == "advocate_clicks_total" && $0.labels["kind"] == kind }
            #expect(Int(scraped.map(\.value).reduce(0, +)) == stored, "\(kind): \(scraped) vs \(classes)")
        }
        #expect(metrics.value("advocate_http_requests_total", ["route": "/s/…", "status": "200"]) == 1)
        #expect(metrics.value("advocate_http_requests_total", ["route": "/l/…", "status": "302"]) == 1)
        #expect(metrics.value("advocate_http_requests_total", ["route": "/l/…", "status": "404"]) == 1)
        #expect(metrics.value("advocate_http_requests_total", ["route": "other", "status": "404"]) == 1)
        #expect(metrics.types["advocate_http_request_duration_seconds"] == "histogram")
        #expect(metrics.value("advocate_http_request_duration_seconds_count", ["route": "/l/…"]) == 2)
        #expect(metrics.value("advocate_click_batch_size_count") ?? 0 >= 1)
        #expect(metrics.value("advocate_click_batch_size_sum") == 2, "two clicks went through the writer")
        #expect(metrics.types["advocate_click_queue_depth"] == "gauge")

        // The log: one JSON object per line, with the route and status, and never a token.
        #expect(process.stop() == 0)
        let log = try String(contentsOf: directory.url.appendingPathComponent("serve.log"), encoding: .utf8)
        let lines = log.split(separator: "\n")
        #expect(lines.count >= 4)
        var routes: [String] = []
        for line in lines {
            let entry = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            #expect(entry["level"] != nil && entry["message"] != nil && entry["time"] != nil, "\(line)")
            if let route = entry["route"] { routes.append("\(route) \(entry["status"] ?? "")") }
        }
        #expect(routes.contains("/l/… 302") && routes.contains("/s/… 200") && routes.contains("other 404"))
        #expect(!log.contains(share) && !log.contains(visit))
        // The client's address (loopback here) appears in no request's entry; only the startup names the server's.
        #expect(!lines.filter { $0.contains("\"route\"") }.contains { $0.contains("127.0.0.1") }, "\(log)")
    }

    @Test("text logs: one line per request on standard error as it happens, with route and status, never the token")
    func textLog() throws {
        let server = ServerTests()
        let (directory, process, database) = try server.start(environment: ["LOG_LEVEL": "info"], errors: "serve.log")
        defer { withExtendedLifetime(directory) {} }
        defer { process.stop() }
        let visit = try #require(try server.tokens(database).first { $0.kind == "l" }?.token)
        #expect(try http("\(process.baseURL)/l/\(visit)").status == 302)
        let file = directory.url.appendingPathComponent("serve.log")
        // Written at once, while the server still runs (not when a buffer fills or the process ends).
        // The request's line, found by its method: "302" alone also matches a startup line whose port holds it.
        #expect(waitUntil { ((try? String(contentsOf: file, encoding: .utf8)) ?? "").contains(" GET ") })
        let log = try String(contentsOf: file, encoding: .utf8)
        let line = try #require(log.split(separator: "\n").first { $0.contains(" GET ") })
        #expect(line.contains(" info advocate: ") && line.contains("GET /l/… 302"), "\(line)")
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} "#, options: .regularExpression) != nil)
        #expect(!log.contains(visit))
    }

    @Test("without the admin token there is no /metrics at all")
    func noTokenNoMetrics() throws {
        let (directory, process, _) = try ServerTests().start()
        defer { withExtendedLifetime(directory) {} }
        defer { process.stop() }
        #expect(try http("\(process.baseURL)/metrics", headers: ["Authorization: Bearer anything"]).status == 404)
    }

    @Test(
        "digest send --metrics-file: this run's deliveries, SMTP latency and the ledger's totals, for a textfile collector"
    )
    func sendMetricsFile() throws {
        let directory = try TempDirectory()
        let smtp = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        try directory.write("config.json", smtpConfig(port: smtp.port, certificate: nil, username: nil))
        try directory.write(
            "people.csv",
            "email,name,language,themes,networks\n"
                + (1...3).map { "person\($0)@example.org,Person \($0),en,,x\n" }.joined()
                + "rcpt550-d@example.org,D,en,,x\n")
        try directory.write(
            "content.json",
            """
            [{"url": "https://acme.example/zon", "title": "Zon", "week": "2026-W49", "texts": ["Trots!"]}]
            """)
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        #expect(try advocate(["content", "import", "content.json"], in: directory.url).status == 0)
        let run = try advocate(
            ["digest", "send", "--week", "2026-W49", "--metrics-file", "digest.prom"], in: directory.url)
        #expect(run.status == 3, "one recipient refused: \(run.stdout)\(run.stderr)")
        let text = try String(contentsOf: directory.url.appendingPathComponent("digest.prom"), encoding: .utf8)
        let metrics = try ScrapedMetrics(text)
        #expect(metrics.value("advocate_deliveries_total", ["status": "sent"]) == 3)
        #expect(metrics.value("advocate_deliveries_total", ["status": "failed"]) == 1)
        #expect(metrics.value("advocate_smtp_duration_seconds_count") == 4)
        #expect(metrics.value("advocate_digest_deliveries", ["week": "2026-W49", "status": "sent"]) == 3)
        #expect(metrics.value("advocate_digest_deliveries", ["week": "2026-W49", "status": "failed"]) == 1)
        #expect(metrics.value("advocate_digest_last_run_timestamp_seconds") ?? 0 > Date().timeIntervalSince1970 - 600)
        let share = try #require(metrics.value("advocate_digest_in_doubt_share", ["week": "2026-W49"]))
        #expect(share > 0 && share <= 1, "three messages went through their end: \(share)")
        let perMessage = try #require(
            metrics.value("advocate_digest_in_doubt_seconds_per_message", ["week": "2026-W49"]))
        #expect(perMessage > 0 && perMessage < 10, "each end's time in doubt, on average: \(perMessage) s")
        #expect(metrics.value("advocate_digest_held_back", ["week": "2026-W49"]) == 0, "no reply stalled")
        #expect(smtp.received().count == 3)
    }
}
