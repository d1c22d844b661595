import Foundation
import Prometheus

/// A batch job's figures as a file in Prometheus' text format, the way node_exporter's textfile collector reads
/// them: written to a temporary file beside it and renamed, so the collector never reads half a file.
public enum MetricsFile {
    /// Writes the registry's figures (this run's deliveries and SMTP latency) and the digest's ledger totals.
    public static func write(_ registry: PrometheusCollectorRegistry, summary: SendSummary, to url: URL) throws {
        var text = registry.emitToString()
        text += "# TYPE advocate_digest_deliveries gauge\n"
        for (status, count) in summary.totals.sorted(by: { $0.key < $1.key }) {
            text += "advocate_digest_deliveries{week=\"\(summary.week)\",status=\"\(status)\"} \(count)\n"
        }
        text += "# TYPE advocate_digest_run_seconds gauge\n"
        text += "advocate_digest_run_seconds{week=\"\(summary.week)\"} \(summary.seconds)\n"
        text += "# TYPE advocate_digest_in_doubt_share gauge\n"
        text += "advocate_digest_in_doubt_share{week=\"\(summary.week)\"} \(summary.inDoubtShare)\n"
        text += "# TYPE advocate_digest_in_doubt_seconds_per_message gauge\n"
        text += "advocate_digest_in_doubt_seconds_per_message{week=\"\(summary.week)\"} "
        text += "\(summary.inDoubtSecondsPerMessage)\n"
        text += "# TYPE advocate_digest_held_back gauge\n"
        text += "advocate_digest_held_back{week=\"\(summary.week)\"} \(summary.heldBackThisRun)\n"
        text += "# TYPE advocate_digest_last_run_timestamp_seconds gauge\n"
        text += "advocate_digest_last_run_timestamp_seconds \(Int(Date().timeIntervalSince1970))\n"
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try Data(text.utf8).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw MetricsFileError(description: "could not write the metrics file \(url.path): \(reason)")
        }
    }
}

/// Why the metrics file could not be written.
public struct MetricsFileError: Error, CustomStringConvertible {
    public var description: String
}
