import Advocate
import AdvocateCore
import Foundation
import Synchronization

/// A folder under the system temp directory, removed when the value is dropped. With the PostgreSQL test backend
/// (``TestBackend``) it also owns a fresh database, which every config.json written here names.
/// Sendable by hand: immutable after `init`; only `deinit` touches the folder.
final class TempDirectory: @unchecked Sendable {
    let url: URL
    /// The test's PostgreSQL database, when the suite runs on PostgreSQL.
    let databaseURL: String?

    /// `sqliteOnly`: no PostgreSQL database even when the suite runs on PostgreSQL.
    init(sqliteOnly: Bool = false) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("advocate-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        databaseURL = TestBackend.postgres && !sqliteOnly ? try PostgresCluster.shared().makeDatabase() : nil
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to a file in the folder and returns its path. A config.json gets the test's `databaseURL`
    /// when the suite runs on PostgreSQL.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        var data = Data(text.utf8)
        if let databaseURL, name.hasSuffix("config.json"),
            var object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["databaseURL"] == nil
        {
            object["databaseURL"] = databaseURL
            data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        }
        try data.write(to: file)
        return file.path
    }

    /// The store the folder's config.json names: its SQLite file (`data/advocate.sqlite` unless `sqlite` says
    /// otherwise), or the test's PostgreSQL database.
    func openDatabase(sqlite: String = "data/advocate.sqlite") throws -> AppDatabase {
        if let databaseURL { return try PostgresCluster.shared().open(databaseURL) }
        return try AppDatabase.open(at: url.appendingPathComponent(sqlite))
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// The package's root folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A fixed link key for tests.
let testLinkKeys = "1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU2Nzg5YWJjZGVmZ2hpag"

/// The result of running the real `advocate` binary.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The `advocate` executable the tests run: ADVOCATE_BIN (scripts/test sets it after building), or
/// `.build/debug/advocate` when it is at least as new as every source file. A stale binary would test old code, so
/// the tests stop with a clear message instead.
func advocateBinary() throws -> String { try advocateBinaryCheck.get() }

/// A test's set-up could not be done: the message says what to do.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

private let advocateBinaryCheck: Result<String, TestSetupError> = {
    if let binary = ProcessInfo.processInfo.environment["ADVOCATE_BIN"] { return .success(binary) }
    let binary = packageRoot.appendingPathComponent(".build/debug/advocate").path
    let built = (try? FileManager.default.attributesOfItem(atPath: binary)[.modificationDate] as? Date) ?? nil
    guard let built else {
        return .failure(.init(description: "no advocate binary at \(binary): run `swift build --product advocate`"))
    }
    let sources = packageRoot.appendingPathComponent("Sources")
    let newer = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: [.contentModificationDateKey])?
        .compactMap { $0 as? URL }.first { file in
            ((try? file.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? nil)
                .map { $0 > built } ?? false
        }
    if let newer {
        return .failure(
            .init(description: "\(binary) is older than \(newer.path): run `swift build --product advocate` first"))
    }
    return .success(binary)
}()

/// Runs the built `advocate` executable (see ``advocateBinary``) in `directory`.
func advocate(_ arguments: [String], in directory: URL, environment extra: [String: String] = [:]) throws
    -> CommandResult
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try advocateBinary())
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment
    environment["ADVOCATE_CONFIG"] = nil
    environment["ADVOCATE_LINK_KEYS"] = testLinkKeys
    environment.merge(TestBackend.environment) { $1 }
    environment.merge(extra) { $1 }
    process.environment = environment
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// Starts the `advocate` executable in the background, for tests that kill it; its standard output goes to
/// `output` (discarded when nil).
func startAdvocate(
    _ arguments: [String], in directory: URL, environment extra: [String: String] = [:], output: URL? = nil
) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try advocateBinary())
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.merging(
        ["ADVOCATE_LINK_KEYS": testLinkKeys].merging(TestBackend.environment) { $1 }.merging(extra) { $1 }
    ) { $1 }
    if let output { _ = FileManager.default.createFile(atPath: output.path, contents: nil) }
    process.standardOutput = FileHandle(forWritingAtPath: output?.path ?? "/dev/null")
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    return process
}

/// Runs a fixture script of Tests/Fixtures (or scripts/) with Debian's python and returns what it printed.
func runFixture(_ script: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [packageRoot.appendingPathComponent(script).path] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}

/// A fixed moment: Wednesday 2 December 2026, 10:00 in Amsterdam (2026-W49).
let fixedNow = Date(timeIntervalSince1970: 1_796_202_000)

/// A context over a config file in `directory`, with a fixed clock and test secrets.
func makeContext(in directory: TempDirectory, config: String = "{\"databasePath\": \"data/test.sqlite\"}") throws
    -> AppContext
{
    let path = try directory.write("config.json", config)
    return try AppContext.load(
        configPath: path, environment: ["ADVOCATE_LINK_KEYS": testLinkKeys].merging(TestBackend.environment) { $1 },
        now: { fixedNow })
}

/// The first line a started process writes to `pipe`; empty when it exits first or writes no line within
/// `timeout` seconds (so a process that hangs fails the test instead of hanging it).
func firstLine(of pipe: Pipe, timeout: TimeInterval = 60) -> String {
    let descriptor = pipe.fileHandleForReading.fileDescriptor
    let deadline = Date().addingTimeInterval(timeout)
    var line: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1)
    while !line.contains(UInt8(ascii: "\n")) {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { break }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
        if ready < 0 && errno == EINTR { continue }
        guard ready >= 0 else { break }
        if poller.revents == 0 { continue }
        // One byte at a time: nothing after the first line is taken from the pipe.
        guard read(descriptor, &buffer, 1) == 1 else { break }
        line.append(buffer[0])
    }
    return String(decoding: line, as: UTF8.self)
}

/// In async tests: waits until `condition` holds, polling every 20 ms, for at most `timeout` seconds, without
/// holding a thread of the cooperative pool (the server's own tasks need those threads to make progress).
@discardableResult
func waitUntilAsync(timeout: TimeInterval = 30, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// Waits until `condition` holds, polling every 20 ms, for at most `timeout` seconds; returns whether it held.
@discardableResult
func waitUntil(timeout: TimeInterval = 30, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}

/// A clock that tests move by hand: the server and jobs read it through `AppContext.now`.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = fixedNow) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A value several tasks of a test add to.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    func withLock<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestSetupError(description: "no socket") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw TestSetupError(description: "cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
