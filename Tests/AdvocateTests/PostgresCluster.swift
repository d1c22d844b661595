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
        try Self.asPostgres(
            "pg_ctl",
            [
                "-D", folder + "/data", "-l", folder + "/log", "-w", "-t", "60", "start", "-o",
                "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            ])
        atexit { try? PostgresCluster.shared().stop() }
        // If this process is killed, nothing runs at exit: a watchdog stops the cluster once the process is gone.
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = [
            "-c",
            "while kill -0 \(getpid()) 2>/dev/null; do sleep 2; done; "
                + "runuser -u postgres -- \(Self.binaries)/pg_ctl -D '\(folder)/data' -m immediate stop; "
                + "rm -rf '\(folder)'",
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

    func stop() throws {
        try Self.asPostgres("pg_ctl", ["-D", folder + "/data", "-m", "fast", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    private static func asPostgres(_ tool: String, _ arguments: [String]) throws {
        try run("/usr/sbin/runuser", ["-u", "postgres", "--", binaries + "/" + tool] + arguments)
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSetupError(
                description: "\(executable) \(arguments.joined(separator: " ")) failed: "
                    + String(decoding: message, as: UTF8.self))
        }
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
