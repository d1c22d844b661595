import Foundation
import Testing

@Suite("Click truth on a labelled replay against the real server, with real timing", .serialized)
struct ClickReplayTests {
    @Test(
        "every category judged, human precision and recall ≥ 0.95, report totals within 5 %, nothing personal on disk")
    func replay() async throws {
        let directory = try TempDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            packageRoot.appendingPathComponent("scripts/click_replay.py").path, try advocateBinary(),
            directory.url.appendingPathComponent("replay").path, "--ambassadors", "40", "--seed", "3", "--check",
            "--scan",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Two minutes of real time: waited for on a thread of its own, never on one of the (two) threads that run
        // every other test's async work.
        let data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }
        }
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        for category in [
            "people", "double clicks", "time-of-click check", "gateway scanner", "sandbox scanner", "paced scanner",
            "preview crawlers", "readers", "reloads",
        ] {
            let line = text.split(separator: "\n").first { $0.hasPrefix(category) }
            #expect(line != nil, "no \(category) in the replay")
            #expect(line?.hasSuffix("100.0%") == true || line.map { !$0.contains(" 0.0%") } == true, "\(line ?? "")")
        }
        #expect(text.contains("database files scanned: 0 client addresses or agents found"))
        #expect(text.contains(" 0 unmatched"))
    }
}
