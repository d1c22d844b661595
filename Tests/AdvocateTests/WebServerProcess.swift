import Foundation

/// Tests/Fixtures/web_server.py on a free loopback port: saved real-world-shaped pages and feeds.
/// Sendable by hand: immutable after `init`; `Process` itself is thread-safe for terminate and wait.
final class WebServerProcess: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            packageRoot.appendingPathComponent("Tests/Fixtures/web_server.py").path, "--dir", directory.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let line = firstLine(of: output)
        guard line.hasPrefix("READY "),
            let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            kill(process.processIdentifier, SIGKILL)
            throw TestSetupError(description: "the web test server did not start: \(line)")
        }
        self.port = port
    }

    /// The requests served so far: "METHOD PATH STATUS IF-NONE-MATCH".
    func requests() -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("requests"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    deinit {
        // SIGKILL: a child of the test runner may inherit a blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
