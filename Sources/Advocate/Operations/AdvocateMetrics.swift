import CoreMetrics
import Foundation
import Synchronization

/// The figures Advocate reports through swift-metrics. The handles are made once per set of labels and kept, so a
/// click costs a dictionary lookup, not a trip through the metrics factory. Without a bootstrapped factory (tests
/// in-process, or a job without `--metrics-file`) every figure goes to swift-metrics' no-op handler.
public enum AdvocateMetrics {
    /// The route a path belongs to, as logs and metrics name it: its first segment when it is one of the server's
    /// (`/s/…`, `/admin/…`), else `other`, so that neither tokens nor made-up paths reach a log or a label.
    static func route(of path: String) -> String {
        // Runs on every request: the first segment is found in place, and the labels are made once.
        let slash = UInt8(ascii: "/")
        let rest = path.utf8.drop { $0 == slash }
        guard !rest.isEmpty else { return "/" }
        return knownRoutes[Substring(rest.prefix { $0 != slash })] ?? "other"
    }

    private static let knownRoutes: [Substring: String] = Dictionary(
        uniqueKeysWithValues: ["s", "l", "t", "u", "p", "join", "admin", "healthz", "metrics"].map {
            (Substring($0), "/\($0)/…")
        })

    /// Requests answered, by route (`/s/…`, `/admin/…`) and status code.
    static func request(route: String, status: Int, duration: Duration) {
        requests.handle(for: RequestKey(route: route, status: status)) {
            Counter(
                label: "advocate_http_requests_total", dimensions: [("route", $0.route), ("status", "\($0.status)")])
        }.increment()
        latencies.handle(for: route) {
            CoreMetrics.Timer(label: "advocate_http_request_duration_seconds", dimensions: [("route", $0)])
        }.recordNanoseconds(duration.nanoseconds)
    }

    /// A click stored, by kind (share, visit, trap) and class (human, scanner, bot).
    static func click(kind: String, classification: String) {
        clicks.handle(for: ClickKey(kind: kind, classification: classification)) {
            Counter(label: "advocate_clicks_total", dimensions: [("kind", $0.kind), ("class", $0.classification)])
        }.increment()
    }

    /// One group commit of the click writer: how many clicks it held, and how many were waiting behind it.
    static func clickBatch(size: Int, waiting: Int) {
        batchSize.record(size)
        queueDepth.record(waiting)
    }

    /// A link request answered on the event loops, without a task (the others went through the router).
    static func fastAnswer() { fastAnswers.increment() }

    /// A week's mails read together by the click server, after many of their delivery times were missed at once.
    static func weekRead() { weekReads.increment() }

    /// The outcome of one delivery attempt of a digest (`sent`, `retry`, `failed`, `inDoubt`, `skipped`).
    static func delivery(_ status: String) {
        deliveries.handle(for: status) { Counter(label: "advocate_deliveries_total", dimensions: [("status", $0)]) }
            .increment()
    }

    /// How long one SMTP transaction took (from MAIL FROM to the reply to the final dot).
    static func smtp(_ duration: Duration) { smtpLatency.recordNanoseconds(duration.nanoseconds) }

    private struct RequestKey: Hashable, Sendable {
        var route: String
        var status: Int
    }

    private struct ClickKey: Hashable, Sendable {
        var kind: String
        var classification: String
    }

    private static let requests = Handles<RequestKey, Counter>()
    private static let latencies = Handles<String, CoreMetrics.Timer>()
    private static let clicks = Handles<ClickKey, Counter>()
    private static let deliveries = Handles<String, Counter>()
    private static let batchSize = Recorder(label: "advocate_click_batch_size", aggregate: true)
    private static let queueDepth = Gauge(label: "advocate_click_queue_depth")
    private static let fastAnswers = Counter(label: "advocate_link_fast_answers_total")
    private static let weekReads = Counter(label: "advocate_link_week_reads_total")
    private static let smtpLatency = CoreMetrics.Timer(label: "advocate_smtp_duration_seconds")
}

/// Metric handles by their labels, made on first use.
private final class Handles<Key: Hashable & Sendable, Handle: Sendable>: Sendable {
    private let handles = Mutex<[Key: Handle]>([:])

    func handle(for key: Key, make: (Key) -> Handle) -> Handle {
        if let handle = handles.withLock({ $0[key] }) { return handle }
        let handle = make(key)
        handles.withLock { $0[key] = $0[key] ?? handle }
        return handle
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
