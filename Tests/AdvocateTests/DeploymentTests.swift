import Advocate
import AdvocateCore
import Foundation
import Testing

/// Debian's nginx started on the repo's example config (deploy/nginx/advocate.conf) with its upstreams replaced.
final class NginxProcess {
    let port: Int
    let directory: URL
    private let server = Process()

    /// `accessLog`: log each request's id and status to `access.log` (the example config logs nothing).
    init(directory: URL, upstreams: [Int], accessLog: Bool = false) throws {
        self.directory = directory
        port = try freeLoopbackPort()
        var site = try String(
            contentsOf: packageRoot.appendingPathComponent("deploy/nginx/advocate.conf"), encoding: .utf8)
        for (example, real) in zip([8081, 8082], upstreams) {
            site = site.replacingOccurrences(of: "127.0.0.1:\(example) ", with: "127.0.0.1:\(real) ")
        }
        site = site.replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(port);")
        if accessLog {
            site = site.replacingOccurrences(
                of: "access_log off;", with: "access_log \(directory.path)/access.log requests;")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(site.utf8).write(to: directory.appendingPathComponent("advocate.conf"))
        let path = directory.path
        let main = """
            worker_processes 1;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log;
            events { worker_connections 512; }
            http {
              log_format requests '$request_id $status';
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
        guard server.isRunning else { return }
        kill(server.processIdentifier, SIGQUIT)
        let server = self.server
        if !waitUntil(timeout: 10, { !server.isRunning }) {
            kill(server.processIdentifier, SIGKILL)  // its worker exits with it (it watches its master)
        }
        server.waitUntilExit()
    }
}

@Suite("Deployment: the example nginx config in front of two click servers", .serialized)
struct DeploymentTests {
    @Test("two advocate serve behind nginx, the busy one killed under load: every 302 has its click, none twice")
    func twoServersOneKilled() throws {
        let setUp = try TwoServers(networks: [.x, .whatsapp, .bluesky], kinds: [.share, .visit])
        defer { setUp.stop() }
        let (database, first, second, token) = (setUp.database, setUp.first, setUp.second, TwoServers.token)

        let total = 3_000
        let output = try runFixture(
            "Tests/Fixtures/click_load.py",
            [
                setUp.nginx.base, setUp.pathsFile, "\(total)", "16", "1000", token,
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

    @Test("wrk at 64 connections through nginx, the busy server killed mid-run: every 302 in nginx's log has one click")
    func twoServersUnderWrk() throws {
        let setUp = try TwoServers(networks: [.x, .whatsapp], kinds: [.share], accessLog: true)
        defer { setUp.stop() }
        let (database, first, second) = (setUp.database, setUp.first, setUp.second)
        let script = try setUp.directory.write(
            "paths.lua",
            """
            local paths = {}
            for line in io.lines("\(setUp.pathsFile)") do paths[#paths + 1] = line end
            local i = 0
            request = function()
              i = i + 1
              return wrk.format("GET", paths[(i % #paths) + 1])
            end
            """)

        // wrk for 4 s (bounded in time; a few thousand requests); one server is killed after 1.5 s. All of wrk's
        // connections come from 127.0.0.1, so ip_hash sends them to one server: that is the one to kill.
        let accessLog = setUp.nginx.directory.appendingPathComponent("access.log")
        let checks = ((try? String(contentsOf: accessLog, encoding: .utf8)) ?? "").split(separator: "\n").count
        let wrk = Process()
        wrk.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        wrk.arguments = ["-t2", "-c64", "-d4s", "-s", script, setUp.nginx.base]
        wrk.standardOutput = FileHandle.nullDevice
        try wrk.run()
        _ = waitUntil(timeout: 1.5) { !wrk.isRunning }
        let busy =
            first.servedLinks(token: TwoServers.token) >= second.servedLinks(token: TwoServers.token) ? first : second
        kill(busy.process.processIdentifier, SIGKILL)
        wrk.waitUntilExit()
        let survivor = busy === first ? second : first
        #expect(survivor.stop() == 0)

        let log = try String(contentsOf: accessLog, encoding: .utf8)
        let lines = log.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .dropFirst(checks)  // the start-up's /healthz checks
        let redirects = lines.filter { $0.count == 2 && $0[1] == "302" }.map { $0[0] }
        // 499: wrk closed the connection with the request in flight when its time was up (at most one per
        // connection). Such a click may or may not have been stored; nothing else may be there.
        let abandoned = Set(lines.filter { $0.count == 2 && $0[1] == "499" }.map { $0[0] })
        let others = lines.filter { $0.count != 2 || !["302", "499"].contains($0[1]) }
        #expect(redirects.count > 1_000, "wrk really loaded the servers: \(redirects.count) redirects")
        #expect(others.isEmpty, "every request got its redirect: \(others.prefix(3))")
        #expect(abandoned.count <= 64, "only wrk's cut-off leaves requests unanswered: \(abandoned.count)")
        let all = try database.clickRequestIDs()
        #expect(all.allSatisfy { $0 != nil }, "every click came through nginx with its request id")
        let stored = all.compactMap { $0 }
        let missing = Set(redirects).subtracting(stored)
        let extra = Set(stored).subtracting(redirects).subtracting(abandoned)
        #expect(missing.isEmpty, "\(missing.count) redirects without a click")
        #expect(extra.isEmpty, "\(extra.count) clicks without a request in nginx's log")
        print(
            "deployment under wrk: \(redirects.count) redirects, \(stored.count) clicks (\(abandoned.count) requests "
                + "abandoned at wrk's cut-off), the busy server killed")
    }
}

/// Two `advocate serve` on one store behind the repo's nginx config, and a file of share (and visit) links of 40
/// people for this week, so that they are valid whenever the suite runs.
struct TwoServers {
    static let token = "deployment-token-0123456789"
    let directory: TempDirectory
    let database: AppDatabase
    let pathsFile: String
    let first: ServerProcess
    let second: ServerProcess
    let nginx: NginxProcess

    init(networks: [Network], kinds: [LinkToken.Kind], accessLog: Bool = false) throws {
        let week = ISOWeek(containing: Date(), in: TimeZone(identifier: "Europe/Amsterdam")!)
        let codes = networks.map(\.rawValue).joined(separator: ";")
        (directory, database) = try serverFolder(
            people: "email,name,language,themes,networks\n"
                + (1...40).map { "person\($0)@example.org,Person \($0),en,,\(codes)\n" }.joined(),
            week: week)
        let sealer = LinkSealer(keyring: try LinkKeyring(parsing: testLinkKeys))
        let item = try #require(try database.contentItems().first?.id)
        var paths: [String] = []
        for person in 1...40 {
            let id = try #require(try database.ambassador(email: "person\(person)@example.org")?.id)
            for network in networks {
                for kind in kinds {
                    let token = sealer.seal(
                        LinkToken(kind: kind, ambassadorID: id, itemID: item, network: network, week: week))
                    paths.append("/\(kind == .share ? "s" : "l")/\(token)")
                }
            }
        }
        pathsFile = try directory.write("paths.txt", paths.joined(separator: "\n"))
        first = try ServerProcess(directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": Self.token])
        second = try ServerProcess(directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": Self.token])
        let ports = [first, second].map { Int($0.baseURL.split(separator: ":").last ?? "") ?? 0 }
        nginx = try NginxProcess(
            directory: directory.url.appendingPathComponent("nginx"), upstreams: ports, accessLog: accessLog)
    }

    /// Stops both servers (nginx stops when the value is dropped).
    func stop() {
        first.stop()
        second.stop()
    }
}

extension ServerProcess {
    /// The /s/ link requests this server answered so far, from its own /metrics.
    func servedLinks(token: String) -> Double {
        let metrics = (try? http(baseURL + "/metrics", headers: ["Authorization: Bearer \(token)"]).body) ?? ""
        return metrics.split(separator: "\n").filter {
            $0.hasPrefix("advocate_http_requests_total") && $0.contains("route=\"/s/\"")
        }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }
}

/// The example systemd units: systemd's own verifier accepts them, and their command lines run.
@Suite("Deployment: the example systemd units")
struct SystemdUnitTests {
    /// The units with the binary and the /etc, /var paths moved into `directory`.
    func units(in directory: TempDirectory) throws -> [String: String] {
        var units: [String: String] = [:]
        for name in ["advocate-serve@.service", "advocate-digest.service", "advocate-digest.timer"] {
            units[name] = try String(
                contentsOf: packageRoot.appendingPathComponent("deploy/systemd/\(name)"), encoding: .utf8
            )
            .replacingOccurrences(of: "/usr/local/bin/advocate", with: try advocateBinary())
            .replacingOccurrences(of: "/etc/advocate/", with: directory.url.path + "/etc/")
            .replacingOccurrences(of: "/var/lib/node_exporter/textfile", with: directory.url.path + "/textfile")
        }
        return units
    }

    /// The unit's command line, continuation lines joined, split into words.
    func execStart(_ unit: String) -> [String] {
        let joined = unit.replacingOccurrences(of: "\\\n", with: " ")
        let line = joined.split(separator: "\n").first { $0.hasPrefix("ExecStart=") } ?? ""
        return line.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
    }

    @Test("systemd-analyze verify finds nothing to say about the units")
    func verify() throws {
        let directory = try TempDirectory()
        var paths: [String] = []
        for (name, text) in try units(in: directory) {
            // A template is verified through one of its instances.
            paths.append(try directory.write(name.replacingOccurrences(of: "@.", with: "@8081."), text))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = ["verify", "--man=no"] + paths.sorted()
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(said)")
        #expect(said.isEmpty, "\(said)")
    }

    @Test("the units' command lines: the weekly digest sends and writes its metrics; the server starts and drains")
    func commandLines() throws {
        let directory = try TempDirectory()
        let smtp = try SMTPServerProcess(directory: directory.url.appendingPathComponent("mail"))
        try directory.write("etc/config.json", smtpConfig(port: smtp.port, certificate: nil, username: nil))
        try FileManager.default.createDirectory(
            at: directory.url.appendingPathComponent("textfile"), withIntermediateDirectories: true)
        try directory.write("people.csv", "email,name,language,themes,networks\nzoe@example.org,Zoë,en,,x\n")
        try directory.write(
            "content.json",
            """
            [{"url": "https://acme.example/zon", "title": "Zon", "week": "\(ISOWeek(containing: Date(), in: TimeZone(identifier: "Europe/Amsterdam")!))", "texts": ["Trots!"]}]
            """)
        let config = ["--config", directory.url.path + "/etc/config.json"]
        #expect(try advocate(["ambassadors", "import", "people.csv"] + config, in: directory.url).status == 0)
        #expect(try advocate(["content", "import", "content.json"] + config, in: directory.url).status == 0)
        let units = try units(in: directory)

        let digest = execStart(try #require(units["advocate-digest.service"]))
        let run = try advocate(Array(digest.dropFirst()), in: directory.url)
        #expect(run.status == 0, "\(digest): \(run.stdout)\(run.stderr)")
        #expect(smtp.received().map(\.recipient) == ["zoe@example.org"])
        let metrics = try String(
            contentsOf: directory.url.appendingPathComponent("textfile/advocate_digest.prom"), encoding: .utf8)
        #expect(try ScrapedMetrics(metrics).value("advocate_deliveries_total", ["status": "sent"]) == 1)

        // The server instance for port 0 (any free port) with its own config file, as the unit names it.
        try directory.write(
            "etc/serve-0.json",
            """
            {"databasePath": "data/advocate.sqlite", "publicBaseURL": "https://go.acme.example",
             "templatesDirectory": "\(packageRoot.appendingPathComponent("Templates").path)",
             "server": {"host": "127.0.0.1", "port": 0}}
            """)
        let serve = execStart(try #require(units["advocate-serve@.service"]).replacingOccurrences(of: "%i", with: "0"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: serve[0])
        process.arguments = Array(serve.dropFirst())
        process.currentDirectoryURL = directory.url
        process.environment = ProcessInfo.processInfo.environment.merging(["ADVOCATE_LINK_KEYS": testLinkKeys]) {
            $1
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let line = firstLine(of: output)
        let base = try #require(line.range(of: "http://").map { String(line[$0.lowerBound...]) })
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try http("\(base)/healthz").status == 200)
        kill(process.processIdentifier, SIGTERM)  // the unit's KillSignal
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
