import Foundation
import Logging

/// swift-log's text lines (`StreamLogHandler`'s format) on standard error, like the JSON lines, each written at
/// once (swift-log's default wrote them to standard output through a buffer, so under systemd or a pipe they came
/// late and in blocks), with the metadata formatted when an entry is written rather than each time a key is set:
/// Hummingbird sets a request id on every request's logger, and `StreamLogHandler` formatted all metadata then, on
/// every request, even when nothing was logged (about 3 % of the click server's time under load).
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String

    /// Creates a handler for `label`.
    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        if let error = event.error {
            fields["error.message"] = "\(error)"
            fields["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let pretty =
            fields.isEmpty ? "" : " " + fields.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        let line = "\(Self.timestamp()) \(event.level) \(label):\(pretty) [\(event.source)] \(event.message)\n"
        // A closed or full standard error loses the line, never the server.
        try? FileHandle.standardError.write(contentsOf: Data(line.utf8))
    }

    /// The local time as `StreamLogHandler` writes it.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
