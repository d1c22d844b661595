import Advocate
import AdvocateCore
import Foundation
import Testing

/// Debian's nginx started on the repo's example config (deploy/nginx/advocate.conf) with its upstreams replaced.
final class NginxProcess {
    let port: Int
    let directory: URL
    private let server = Process()

    init(directory: URL, upstreams: [Int]) throws {
        self.directory = directory
        port = try freeLoopbackPort()
        var site = try String(
            contentsOf: packageRoot.appendingPathComponent("deploy/nginx/advocate.conf"), encoding: .utf8)
        for (example, real) in zip([8081, 8082], upstreams) {
            site = site.replacingOccurrences(of: "127.0.0.1:\(example) ", with: "127.0.0.1:\(real) ")
        }
        site = site.replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(port);")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(site.utf8).write(to: directory.appendingPathComponent("advocate.conf"))
        let path = directory.path
        let main = """
            worker_processes 1;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log;
            events { worker_connections 512; }
            http {
              client_body_temp_path \(path); proxy_temp_path \(path); fastcgi_temp_path \(path);
              uwsgi_temp_path \(path); scgi_temp_path \(path);
              include \(path)/advocate.conf;
            }
            """
        try Data(main.utf8).write(to: directory.appendingPathComponent("nginx.conf"))
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        check.arguments = ["-t", "-q", "-c", "\(path)/nginx.conf"]
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else {
            throw TestSetupError(description: "nginx -t refused the example config")
        }
        // In the foreground, as a child of the test: stopped in deinit.
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        server.arguments = ["-g", "daemon off;", "-c", "\(path)/nginx.conf"]
        try server.run()
        let port = self.port
        guard waitUntil(timeout: 10, { (try? http("http://127.0.0.1:\(port)/healthz").status) == 200 }) else {
            throw TestSetupError(description: "nginx did not answer on port \(port)")
        }
    }

    var base: String { "http://127.0.0.1:\(port)" }

    deinit {
        if server.isRunning {
            kill(server.processIdentifier, SIGQUIT)
            server.waitUntilExit()
        }
    }
}

@Suite("Deployment: the example nginx config in front of two click servers", .serialized)
struct DeploymentTests {
    @Test("two advocate serve behind nginx, the busy one killed under load: every 302 has its click, none twice")
    func twoServersOneKilled() throws {
        let directory = try TempDirectory()
        try directory.write(
            "config.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0}}
            """)
        try directory.write(
            "people.csv",
            "email,name,language,themes,networks\n"
                + (1...40).map { "person\($0)@example.org,Person \($0),en,,x;whatsapp;bluesky\n" }.joined())
        try directory.write(
            "content.json",
            """
            [{"url": "https://acme.example/zon", "title": "Zon", "week": "2026-W49", "texts": ["Trots!"]}]
            """)
        #expect(try advocate(["ambassadors", "import", "people.csv"], in: directory.url).status == 0)
        #expect(try advocate(["content", "import", "content.json"], in: directory.url).status == 0)
        let database = try AppDatabase.open(at: directory.url.appendingPathComponent("data/advocate.sqlite"))
        let week = try ISOWeek(parsing: "2026-W49")
        let sealer = LinkSealer(keyring: try LinkKeyring(parsing: testLinkKeys))
        let item = try #require(try database.contentItems().first?.id)
        var paths: [String] = []
        for person in 1...40 {
            let id = try #require(try database.ambassador(email: "person\(person)@example.org")?.id)
            for network in [Network.x, .whatsapp, .bluesky] {
                for kind in [LinkToken.Kind.share, .visit] {
                    let token = sealer.seal(
                        LinkToken(kind: kind, ambassadorID: id, itemID: item, network: network, week: week))
                    paths.append("/\(kind == .share ? "s" : "l")/\(token)")
                }
            }
        }
        let pathsFile = try directory.write("paths.txt", paths.joined(separator: "\n"))

        let token = "deployment-token-0123456789"
        let first = try ServerProcess(directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token])
        let second = try ServerProcess(directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token])
        defer {
            first.stop()
            second.stop()
        }
        let ports = [first, second].map { Int($0.baseURL.split(separator: ":").last ?? "") ?? 0 }
        let nginx = try NginxProcess(directory: directory.url.appendingPathComponent("nginx"), upstreams: ports)
        defer { withExtendedLifetime(nginx) {} }

        let total = 3_000
        let output = try runFixture(
            "Tests/Fixtures/click_load.py",
            [
                nginx.base, pathsFile, "\(total)", "16", "1000", token,
                "first=\(first.process.processIdentifier)@\(first.baseURL)",
                "second=\(second.process.processIdentifier)@\(second.baseURL)",
            ])
        let report = try #require(
            try? JSONSerialization.jsonObject(with: output) as? [String: Any],
            "\(String(decoding: output, as: UTF8.self))")
        let killed = try #require(report["killed"] as? String)
        let before = report["servedBeforeKill"] as? [String: Double] ?? [:]
        let after = report["survivorsServed"] as? [String: Double] ?? [:]
        print("deployment: killed \(killed) after it served \(before); the survivor served \(after) in all")
        #expect((before[killed] ?? 0) > 0, "the killed server was carrying traffic")
        #expect((after.values.first ?? 0) > 0, "the other server took over")
        #expect(report["statuses"] as? [String: Int] == ["302": total], "\(report["statuses"] ?? "")")
        #expect((report["errors"] as? [String])?.isEmpty == true, "\(report["errors"] ?? "")")

        // Every redirect the client got has exactly one stored click, and there is no other click.
        let survivor = killed == "first" ? second : first
        #expect(survivor.stop() == 0)
        let stored = try database.clickRequestIDs()
        let redirects = report["redirectIDs"] as? [String] ?? []
        #expect(stored.count == total, "clicks stored: \(stored.count) for \(total) redirects")
        #expect(stored.allSatisfy { $0 != nil }, "every click came through nginx with its request id")
        let storedIDs = Set(stored.compactMap { $0 })
        let missing = Set(redirects).subtracting(storedIDs)
        let extra = storedIDs.subtracting(redirects)
        #expect(missing.isEmpty, "\(missing.count) redirects without a click, e.g. \(missing.prefix(3))")
        #expect(extra.isEmpty, "\(extra.count) clicks without a redirect, e.g. \(extra.prefix(3))")
        #expect(Set(redirects).count == total, "nginx gave every request its own id")
    }
}
