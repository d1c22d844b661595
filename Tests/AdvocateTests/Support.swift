import Advocate
import AdvocateCore
import Foundation

/// A folder under the system temp directory, removed when the value is dropped.
final class TempDirectory: @unchecked Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("advocate-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to a file in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file.path
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

/// Runs the built `advocate` executable (ADVOCATE_BIN, or .build/debug/advocate) in `directory`.
func advocate(_ arguments: [String], in directory: URL, environment extra: [String: String] = [:]) throws
    -> CommandResult
{
    let binary =
        ProcessInfo.processInfo.environment["ADVOCATE_BIN"]
        ?? packageRoot.appendingPathComponent(".build/debug/advocate").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment
    environment["ADVOCATE_CONFIG"] = nil
    environment["ADVOCATE_LINK_KEYS"] = testLinkKeys
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

/// A fixed moment: Wednesday 2 December 2026, 10:00 in Amsterdam (2026-W49).
let fixedNow = Date(timeIntervalSince1970: 1_796_202_000)

/// A context over a config file in `directory`, with a fixed clock and test secrets.
func makeContext(in directory: TempDirectory, config: String = "{\"databasePath\": \"data/test.sqlite\"}") throws
    -> AppContext
{
    let path = try directory.write("config.json", config)
    return try AppContext.load(
        configPath: path, environment: ["ADVOCATE_LINK_KEYS": testLinkKeys], now: { fixedNow })
}

/// The first line a started process writes to `pipe` (empty when it exits first).
func firstLine(of pipe: Pipe) -> String {
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line += chunk
    }
    return String(decoding: line, as: UTF8.self)
}
