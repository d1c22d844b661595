import Advocate
import Foundation
import Synchronization

/// A throw-away PostgreSQL cluster for this test process: Debian's server, initialised under a temporary folder,
/// run as the `postgres` user on a loopback port, with password (SCRAM) logins for the role `advocate`, which owns
/// one fresh database per test and is no superuser. Stopped when the process exits; a watchdog stops it too when
/// the process is killed.
final class PostgresCluster: Sendable {
    static let binaries = "/usr/lib/postgresql/15/bin"
    /// The role the tests' Advocate connects as, and its password.
    static let user = "advocate"
    static let password = "advocate-test-\(UUID().uuidString.prefix(8))"

    let folder: String
    let port: Int
    /// The postmaster, a child of this process.
    let serverPID: Int32
    private let counter = Mutex(0)

    /// The process's cluster, started on first use.
    static func shared() throws -> PostgresCluster { try started.get() }

    private static let started: Result<PostgresCluster, TestSetupError> = {
        do { return .success(try PostgresCluster()) } catch let error as TestSetupError { return .failure(error) } catch
        {
            return .failure(TestSetupError(description: "PostgreSQL test cluster: \(error)"))
        }
    }()

    private init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binaries + "/initdb") else {
            throw TestSetupError(
                description: "PostgreSQL 15 is not installed: apt-get install postgresql (scripts/test does)")
        }
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent("advocate-pg-\(UUID().uuidString)")
            .path
        port = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Self.run("/bin/chown", ["postgres:postgres", folder])
        try Data((Self.password + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/pw"))
        try Self.run("/bin/chown", ["postgres:postgres", folder + "/pw"])
        try Self.asPostgres(
            "initdb",
            [
                "-D", folder + "/data", "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C.UTF-8",
            ])
        // The server runs as this process's child (setpriv execs it as `postgres`, no daemon), so it never holds
        // a launcher's pipes open; readiness is polled with pg_isready.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        server.arguments = [
            "--reuid=postgres", "--regid=postgres", "--init-groups", "--", Self.binaries + "/postgres", "-D",
            folder + "/data", "-p", "\(port)", "-k", folder, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "max_connections=300",
        ]
        _ = FileManager.default.createFile(atPath: folder + "/log", contents: nil)
        server.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/log"))
        server.standardError = server.standardOutput
        try server.run()
        serverPID = server.processIdentifier
        let folder = folder
        let port = port
        let ready = waitUntil(timeout: 60) {
            (try? Self.run(Self.binaries + "/pg_isready", ["-q", "-h", folder, "-p", "\(port)"])) != nil
        }
        guard ready else {
            throw TestSetupError(
                description: "PostgreSQL did not start: "
                    + ((try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? ""))
        }
        atexit { try? PostgresCluster.shared().stop() }
        // If this process is killed, nothing runs at exit: a watchdog stops the cluster once the process is gone.
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = [
            "-c",
            "while kill -0 \(getpid()) 2>/dev/null; do sleep 2; done; "
                + "runuser -u postgres -- \(Self.binaries)/pg_ctl -D '\(folder)/data' -m fast stop; rm -rf '\(folder)'",
        ]
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try watchdog.run()
        try sql("CREATE ROLE \(Self.user) LOGIN PASSWORD '\(Self.password)'")
    }

    /// Runs `statement` as the superuser over the cluster's socket.
    func sql(_ statement: String, database: String = "postgres") throws {
        try Self.asPostgres(
            "psql", ["-h", folder, "-p", "\(port)", "-d", database, "-v", "ON_ERROR_STOP=1", "-qc", statement])
    }

    /// What `query` prints in `database` (unaligned, tuples only), as the superuser.
    func query(_ query: String, database: String) throws -> String {
        try Self.asPostgres(
            "psql", ["-h", folder, "-p", "\(port)", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", query]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new empty database owned by `advocate`; its URL (without password).
    func makeDatabase() throws -> String {
        let name = counter.withLock { count in
            count += 1
            return "t\(getpid())_\(count)"
        }
        try sql("CREATE DATABASE \(name) OWNER \(Self.user)")
        return url(database: name)
    }

    /// The URL of `database` for the `advocate` role.
    func url(database: String, user: String = PostgresCluster.user) -> String {
        "postgres://\(user)@127.0.0.1:\(port)/\(database)"
    }

    /// Opens `url` as the store, with the role's password.
    func open(_ url: String) throws -> AppDatabase {
        try AppDatabase.open(.postgres(PostgresLocation(parsing: url, password: Self.password, field: "test")))
    }

    /// Fast shutdown: the postmaster ends its sessions and exits.
    func stop() throws {
        kill(serverPID, SIGINT)
        _ = waitUntil(timeout: 10) { kill(serverPID, 0) != 0 }
        try? FileManager.default.removeItem(atPath: folder)
    }

    @discardableResult
    private static func asPostgres(_ tool: String, _ arguments: [String]) throws -> String {
        try run("/usr/sbin/runuser", ["-u", "postgres", "--", binaries + "/" + tool] + arguments)
    }

    /// Runs a tool and returns its standard output; its standard error goes to a file, since pg_ctl's server
    /// keeps inherited pipes open.
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        process.waitUntilExit()
        let message = (try? Data(contentsOf: errorFile)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw TestSetupError(
                description: "\(executable) \(arguments.joined(separator: " ")) failed: "
                    + String(decoding: message, as: UTF8.self))
        }
        return String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self)
    }
}

/// Which backend the suite's stores use: SQLite, or PostgreSQL when ADVOCATE_TEST_DATABASE=postgres (scripts/test
/// runs the store suites a second time that way).
enum TestBackend {
    static let postgres = ProcessInfo.processInfo.environment["ADVOCATE_TEST_DATABASE"] == "postgres"

    /// The environment an `advocate` process needs for the test's database.
    static var environment: [String: String] {
        postgres ? [Secrets.databasePasswordName: PostgresCluster.password] : [:]
    }
}
