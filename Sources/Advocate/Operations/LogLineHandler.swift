import Foundation
import Logging

/// The server's log handler: one line per entry on standard error, written at once, as swift-log's text
/// (`StreamLogHandler`'s format) or as a JSON object (`LOG_FORMAT=json`: `time` in ISO 8601 UTC, `level`, `label`,
/// `message` and the metadata, for journald, Loki or any collector that reads JSON lines).
///
/// The metadata is formatted when an entry is written, never when a key is set: Hummingbird sets a request id on
/// every request's logger, and `StreamLogHandler` formatted all metadata then, on every request, even when nothing
/// was logged (about 3 % of the click server's time under load). swift-log's default also wrote to standard output
/// through a buffer, so under systemd or a pipe its lines came late and in blocks.
public struct LogLineHandler: LogHandler {
    /// How a line is written.
    public enum Format: Sendable {
        case text
        case json
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format

    /// Creates a handler for `label`.
    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        guard let line = format == .json ? json(event, fields) : text(event, fields) else { return }
        // A closed or full standard error loses the line, never the server.
        try? FileHandle.standardError.write(contentsOf: line)
    }

    private func text(_ event: LogEvent, _ metadata: Logger.Metadata) -> Data {
        var fields = metadata
        if let error = event.error {
            fields["error.message"] = "\(error)"
            fields["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let pretty =
            fields.isEmpty ? "" : " " + fields.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        return Data("\(Self.timestamp()) \(event.level) \(label):\(pretty) [\(event.source)] \(event.message)\n".utf8)
    }

    private func json(_ event: LogEvent, _ metadata: Logger.Metadata) -> Data? {
        var fields = metadata.mapValues { "\($0)" }
        fields["time"] = Date().formatted(.iso8601)
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = "\(event.message)"
        guard var line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return nil }
        line.append(0x0A)
        return line
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
