import AdvocateCore
import Foundation
import Logging
import Synchronization

/// What ambassadors do themselves on the server: joining (`MembershipHandler+Join.swift`) and their preferences
/// (`MembershipHandler+Preferences.swift`). Both share these parts, built once by ``addMembershipRoutes``.
struct MembershipHandler: Sendable {
    let database: AppDatabase
    let pages: PageRenderer
    let form: MemberFormContext
    let notices: NoticeComposer
    let mails: MailQueue
    let links: TrackedShareLinks
    let sealer: LinkSealer
    let config: AdvocateConfig
    let now: @Sendable () -> Date
    let logger: Logger
    /// Sign-up follow-ups running after their answer was sent.
    let followUps = BackgroundWork(limit: 16)

    var membership: MembershipConfig { config.membership }
    var currentWeek: ISOWeek { ISOWeek(containing: now(), in: config.timeZone) }
    var today: CalendarDay { CalendarDay(now(), in: config.timeZone) }

    /// The page for a form that could not be read.
    func badRequest(_ language: Language) -> PageResponse {
        PageResponse(status: 400, body: pages.render("badRequest", language: language))
    }

    /// Waits until the work started after answers (sign-up follow-ups, queued mails) is done: on shutdown, so that
    /// no confirmation is lost, and in tests, instead of sleeping.
    func settle() async {
        await followUps.idle()
        await mails.drain()
    }
}

/// Counts work in flight against a limit, and can wait until none is left.
final class BackgroundWork: Sendable {
    private let count = Mutex(0)
    private let group = DispatchGroup()
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Takes a place; false when all are taken.
    func start() -> Bool {
        let started = count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        if started { group.enter() }
        return started
    }

    /// Gives a place back.
    func finish() {
        count.withLock { $0 -= 1 }
        group.leave()
    }

    /// Returns once no work is in flight.
    func idle() async {
        await withCheckedContinuation { continuation in group.notify(queue: .global()) { continuation.resume() } }
    }
}
