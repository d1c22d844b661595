import AdvocateCore
import Foundation
import Logging
import Mustache
import Synchronization

/// `GET /admin`: one server-rendered page with inline SVG charts — no JavaScript, no CDN. The figures are computed
/// on the store's threads and kept for ``cacheSeconds``, so reloading the page or several people watching it cost
/// one set of reports, not one per request; after that the kept page is still served while it is computed again.
public final class Dashboard: Sendable {
    let database: AppDatabase
    let template: MustacheTemplate
    let goals: [Goal]
    let organization: String
    let clicks: ClicksConfig
    let timeZone: TimeZone
    let now: @Sendable () -> Date
    let logger: Logger
    /// Weeks in the trend charts.
    static let weeks = 12
    /// How long a computed page is served before the figures are read again.
    static let cacheSeconds: TimeInterval = 30
    /// How long after a failed reading the kept page is served before the figures are read again.
    static let retrySeconds: TimeInterval = 5
    /// The page last computed and when its figures were read, and when the last reading failed since (while the
    /// kept page is served).
    private let cache = Mutex<(page: String, at: Date, failedAt: Date?)?>(nil)
    /// The computation under way, which every request that finds the cache stale waits for (no stampede).
    private let inFlight = Mutex<Task<String, any Error>?>(nil)

    /// Loads `Templates/admin.html.mustache`.
    public init(context: AppContext, database: AppDatabase, logger: Logger) throws {
        template = try .advocate(named: "admin.html", in: context.config.resolve(context.config.templatesDirectory))
        self.database = database
        goals = context.config.plan.goals
        organization = context.config.organization
        clicks = context.config.clicks
        timeZone = context.config.timeZone
        now = context.now
        self.logger = logger
    }

    /// The page, from the cache when it is fresh. A stale page is served at once while the figures are read again
    /// in the background (over millions of clicks the reports take seconds): only the first request after a start
    /// waits for them. When a reading fails, the kept page is still served, the failure is logged, and the figures
    /// are read again after ``retrySeconds``.
    public func page() async throws -> String {
        let time = now()
        let cached = cache.withLock { $0 }
        if let cached, time >= cached.at, time.timeIntervalSince(cached.at) < Self.cacheSeconds {
            return cached.page
        }
        guard let cached else { return try await refresh(at: time).value }
        if let failed = cached.failedAt, time >= failed, time.timeIntervalSince(failed) < Self.retrySeconds {
            return cached.page
        }
        _ = refresh(at: time)
        return cached.page
    }

    /// Waits for the reading under way, if any, whether it succeeds or not.
    public func settled() async {
        _ = await inFlight.withLock { $0 }?.result
    }

    /// Starts reading the figures unless a reading is under way (every request that finds the cache stale shares
    /// it: no stampede); the page is cached when it is done.
    private func refresh(at time: Date) -> Task<String, any Error> {
        inFlight.withLock { current in
            if let current { return current }
            let task = Task { [self] in
                defer { inFlight.withLock { $0 = nil } }
                do {
                    let page = try await database.perform { [self] _ in try render() }
                    cache.withLock { $0 = (page, time, nil) }
                    return page
                } catch {
                    // The pause before the next try counts from the failure: a reading can take seconds.
                    let failed = now()
                    cache.withLock { $0?.failedAt = failed }
                    logger.error(
                        "the dashboard's figures could not be read (the last page, if any, is served until they can): \(error)"
                    )
                    throw error
                }
            }
            current = task
            return task
        }
    }

    /// The page, computed now. Blocks on the store: call it through ``page()`` from async code.
    public func render() throws -> String {
        let current = ISOWeek(containing: now(), in: timeZone)
        var weeks: [ISOWeek] = [current]
        while weeks.count < Self.weeks { weeks.insert(weeks[0].previous, at: 0) }
        // Clicks on the charted weeks' links happen from (at the earliest) the week before the first one, when a
        // digest is sent early; older clicks need not be read.
        let trendFilter = ReportFilter(from: weeks[0].previous.start(in: timeZone))
        let byWeek = Dictionary(
            uniqueKeysWithValues: try database.report(trendFilter, by: .week).rows.map { ($0.key, $0) })
        let trend = weeks.map { byWeek[$0.description] }
        let items = try database.report(ReportFilter(), by: .item).rows.prefix(8)
        let (networks, total) = try database.report(ReportFilter(), by: .network, costPerClick: clicks.costPerClick)
        let currency = clicks.currency
        let money = { (value: Double) in "\(currency) " + String(format: "%.2f", value) }
        let ambassadors = try database.ambassadorCounts()
        var delivery: [[String: Any]] = []
        var lastWeek = "–"
        if let digest = try database.latestDigest() {
            lastWeek = digest.week.description
            let counts = try database.deliveryCounts(digestID: digest.id)
            delivery = DeliveryStatus.allCases.compactMap { status in
                counts[status].map { ["status": status.rawValue, "count": $0] }
            }
        }
        let context: [String: Any] = [
            "organization": organization, "generated": MailMessage.rfc5322Date(now(), timeZone: timeZone),
            "sharesChart": Self.chart(
                labels: weeks.map { "W\($0.week)" }, human: trend.map { $0?.shares ?? 0 },
                raw: trend.map { $0?.sharesRaw ?? 0 }, name: "shares"),
            "visitsChart": Self.chart(
                labels: weeks.map { "W\($0.week)" }, human: trend.map { $0?.visits ?? 0 },
                raw: trend.map { $0?.visitsRaw ?? 0 }, name: "visits"),
            "items": items.map { ["title": $0.key, "shares": $0.shares, "visits": $0.visits, "raw": $0.visitsRaw] },
            "networks": networks.map {
                [
                    "network": $0.key, "shares": $0.shares, "visits": $0.visits, "confirmed": $0.confirmedShares,
                    "readers": $0.readers, "value": money($0.earnedValue),
                ]
            },
            "reach": [
                "shares": total.shares, "confirmed": total.confirmedShares, "visits": total.visits,
                "readers": total.readers, "value": money(total.earnedValue), "priced": !clicks.costPerClick.isEmpty,
            ] as [String: Any],
            "goals": try database.progress(of: goals, timeZone: timeZone).map(Self.goal),
            "active": ambassadors[.active] ?? 0, "unsubscribed": ambassadors[.unsubscribed] ?? 0,
            "pending": ambassadors[.pending] ?? 0, "lastWeek": lastWeek, "delivery": delivery,
        ]
        return template.render(context)
    }

    /// Bars for a weekly chart: per week a light bar for all hits and a solid one for human hits, scaled to the
    /// largest value, in a 1000 × 200 viewBox.
    static func chart(labels: [String], human: [Int], raw: [Int], name: String) -> [String: Any] {
        let height = 160.0
        let slot = 1000.0 / Double(labels.count)
        let top = Double(max(raw.max() ?? 0, human.max() ?? 0, 1))
        var bars: [[String: Any]] = []
        for (index, label) in labels.enumerated() {
            let x = Double(index) * slot
            let rawHeight = Double(raw[index]) / top * height
            let humanHeight = Double(human[index]) / top * height
            bars.append([
                "label": label, "human": human[index], "raw": raw[index],
                "x": String(format: "%.1f", x + slot * 0.15), "width": String(format: "%.1f", slot * 0.7),
                "rawY": String(format: "%.1f", 10 + height - rawHeight), "rawHeight": String(format: "%.1f", rawHeight),
                "humanY": String(format: "%.1f", 10 + height - humanHeight),
                "humanHeight": String(format: "%.1f", humanHeight), "labelX": String(format: "%.1f", x + slot / 2),
            ])
        }
        return ["name": name, "bars": bars, "max": Int(top)]
    }

    static func goal(_ progress: GoalProgress) -> [String: Any] {
        func bar(_ label: String, _ actual: Int, _ target: Int?) -> [String: Any]? {
            guard let target, target > 0 else { return nil }
            // The bar stops at its end; the figure does not (30 of 20 is 150 %, as in `advocate report`).
            let share = Double(actual) / Double(target)
            return [
                "label": label, "actual": actual, "target": target, "percent": Int((share * 100).rounded()),
                "width": String(format: "%.1f", min(share, 1) * 300),
            ]
        }
        return [
            "period": progress.period, "theme": progress.theme ?? "",
            "bars": [
                bar("shares", progress.shares, progress.sharesGoal),
                bar("visits", progress.visits, progress.visitsGoal),
                bar("active ambassadors", progress.activeAmbassadors, progress.activeAmbassadorsGoal),
            ].compactMap { $0 },
        ]
    }
}
