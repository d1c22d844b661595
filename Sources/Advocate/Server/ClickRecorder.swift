import AdvocateCore
import Foundation
import Logging
import NIOCore

/// Writes clicks with group commit: every click waiting when the writer comes round goes into one transaction, and
/// each caller is resumed only after that transaction committed. A redirect is therefore never sent for a click
/// that is not stored, yet thousands of concurrent clicks cost a handful of transactions.
///
/// On SQLite the transaction commits one row to the click inbox (a table without indexes that holds each group
/// commit's clicks as text; see ``AppDatabase/inboxClicks(_:)``)
/// and the writer moves the inbox into `click` when no click has come for ``Limits/idle``, or a slice per batch
/// while more than ``Limits/backlog`` clicks wait (a long overload then runs at the rate of storing each click
/// directly). Reads of clicks move what is left first, so the move's timing changes no figure.
/// Sendable by hand: `pending`, `stopping` and `stopped` are touched only under `condition`; `unmoved`,
/// `failedMoves` and `retryAt` only by the writer thread once it has started; the rest is immutable.
public final class ClickRecorder: @unchecked Sendable {
    /// When the inbox is moved.
    public struct Limits: Sendable {
        /// Quiet time after which the writer moves the inbox.
        public var idle: TimeInterval = 0.1
        /// Clicks waiting in the inbox beyond which the writer moves a slice after each batch, busy or not.
        public var backlog = 100_000
        /// Clicks per move while busy. A click arriving then waits for one slice, so it is small: with 256 a
        /// sustained overload's p99 was 200–300 ms, with 32 about 30–50 ms, at the same rate.
        public var busySlice = 32
        /// Clicks per move while idle. The first click after a pause waits for the slice begun in it, 60–120 µs
        /// per click: with 1,024, bursts after a pause of 0.1 s had a p99 of up to 49 ms. Per click, slices of 128
        /// cost about a tenth more than slices of 1,024 (the idle drain is that much slower). Clicks another process
        /// left in the same file are moved one slice per idle time (see `move`); every read moves all that waits.
        public var idleSlice = 128
        /// Under sustained concurrent load (the last commit ended less than this before and held at least two
        /// clicks, as PostgreSQL's `commit_siblings`), a group commit waits up to this long for more clicks before
        /// it starts, as PostgreSQL's `commit_delay` does: each commit's fixed cost then serves several times as
        /// many clicks. A click after a quiet spell, or from a lone client, is committed at once.
        public var commitDelay: TimeInterval = 0.001
        /// The wait ends as soon as this many clicks are waiting,
        public var commitGroup = 32
        /// or when no click came for this long (a few clients have all sent theirs).
        public var commitGap: TimeInterval = 0.0002

        public init() {}
    }

    private let database: AppDatabase
    private let condition = NSCondition()
    private var pending = Queue()

    /// Who waits for a queued click: a task, or an answer on an event loop (`loop`), whose callbacks of one group
    /// commit run in one hop to that loop.
    private struct Waiter {
        var loop: (any EventLoop)?
        var done: @Sendable (Result<Void, any Error>) -> Void
    }

    /// Queued clicks and their waiters, kept apart (the same index in both) so that a group commit hands its clicks
    /// to the store as they are. A batch takes the whole queue by swapping it for the emptied buffers of the one
    /// before (no element is copied, none is moved up); only a queue longer than a batch is split, its rest moved
    /// up (a long backlog, as before).
    private struct Queue {
        var clicks: [ClickRecord] = []
        var waiters: [Waiter] = []

        var count: Int { clicks.count }
        var isEmpty: Bool { clicks.isEmpty }

        mutating func append(_ click: ClickRecord, _ waiter: Waiter) {
            clicks.append(click)
            waiters.append(waiter)
        }

        /// The first `limit` clicks; when that is all of them, this queue goes on with `spare`'s buffers and `spare`
        /// is left empty.
        mutating func take(_ limit: Int, spare: inout Queue) -> Queue {
            assert(clicks.count == waiters.count, "a waiter for every click")
            guard count > limit else {
                let taken = self
                self = spare
                spare = Queue()
                return taken
            }
            let taken = Queue(clicks: Array(clicks.prefix(limit)), waiters: Array(waiters.prefix(limit)))
            clicks.removeFirst(limit)
            waiters.removeFirst(limit)
            return taken
        }

        /// This queue emptied, its buffers kept for the next batch unless they hold more than `keep` (what a
        /// backlog grew them to is let go). Called on the last use of the batch, so that the buffers are its own.
        consuming func emptied(keep: Int) -> Queue {
            clicks.removeAll(keepingCapacity: clicks.capacity <= keep)
            waiters.removeAll(keepingCapacity: waiters.capacity <= keep)
            return self
        }
    }
    private var stopping = false
    private var stopped = false
    private let maxBatch: Int
    private let limits: Limits
    private let logger: Logger
    /// Clicks in the inbox not yet moved, as far as this writer knows (other processes may add some; a move that
    /// finds fewer than it asked for sets it to 0).
    private var unmoved = 0
    /// Moves that failed in a row (the writer thread's alone).
    private var failedMoves = 0
    /// No move before this moment after a failed one (the writer thread's alone).
    private var retryAt = Date.distantPast
    /// The log is checkpointed beside the writer, never by it; `nil` if that could not start (SQLite then
    /// checkpoints as usual).
    private let checkpoints: BackgroundCheckpoints?

    /// Creates a recorder and starts its writer thread (SQLite writes block, so they stay off the cooperative pool).
    public init(
        database: AppDatabase, maxBatch: Int = 2_048, limits: Limits = Limits(),
        logger: Logger = Logger(label: "advocate.clicks")
    ) {
        self.database = database
        self.logger = logger
        precondition(maxBatch > 0, "a group commit takes one click at least")
        self.maxBatch = maxBatch
        self.limits = limits
        checkpoints = try? database.checkpointInBackground()
        // Clicks a killed server left in the inbox are moved once this one is idle.
        unmoved = (try? database.inboxCount()) ?? 0
        Thread.named("click-writer") { [self] in writerLoop() }.start()
    }

    /// Stores a click; returns once it is committed.
    public func record(_ click: ClickRecord) async throws {
        try await record { click }
    }

    /// Stores the click `build` makes; returns once it is committed. `build` runs under the writer's lock, so clicks
    /// are queued, and stored, in the order they were built: a click judged against the hits noted before it is
    /// stored after them, and its reclassifications find them stored. `build` must be quick and must not record.
    public func record(_ build: () -> ClickRecord) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(build) { continuation.resume(with: $0) }
        }
    }

    /// Queues the click `build` makes, as ``record(_:)`` does, and calls `done` once it is committed (or failed):
    /// on `loop` when one is given (the event loops' fast path, ``LinkFastPath``, waits this way, without a task),
    /// else on the writer's thread, where it must be quick (or at once, on the caller's, once the recorder stopped).
    func enqueue(
        _ build: () -> ClickRecord, on loop: (any EventLoop)? = nil,
        done: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        condition.lock()
        if stopped {
            condition.unlock()
            let failure = StoreError.failed("the click recorder has stopped")
            if let loop { loop.execute { done(.failure(failure)) } } else { done(.failure(failure)) }
            return
        }
        pending.append(build(), Waiter(loop: loop, done: done))
        // The writer waits for the first click, or during a commit delay for a full group (or the gap's end). It is
        // woken after the lock is let go, so that it does not wake only to wait for the lock.
        let wake = pending.count == 1 || pending.count == limits.commitGroup
        condition.unlock()
        if wake { condition.signal() }
    }

    /// Writes what is pending and stops the writer; later clicks fail. Clicks left in the inbox stay there,
    /// committed, for the next server or the next read to move.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
        checkpoints?.stop()
    }

    private func writerLoop() {
        // Once idle, slices follow each other without a pause until the inbox is empty or a click comes; after a
        // failed move the pause doubles (up to a minute), so a store that keeps failing is not retried ten times a
        // second.
        var draining = false
        // When the last group commit ended, and how many clicks it held (none yet: the first commit never waits).
        var committed = ContinuousClock.now
        var lastBatch = 0
        // The buffers of the batch before, emptied, for the queue to go on with (the writer thread's alone).
        var spare = Queue()
        while true {
            condition.lock()
            var idle = false
            while pending.isEmpty && !stopping && !idle {
                if unmoved == 0 {
                    condition.wait()
                } else if draining {
                    idle = true
                } else {
                    let wake = max(retryAt, Date(timeIntervalSinceNow: limits.idle))
                    idle = !condition.wait(until: wake) && pending.isEmpty
                }
            }
            if pending.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            if idle {
                condition.unlock()
                draining = move(limits.idleSlice)
                continue
            }
            draining = false
            if lastBatch >= 2 && pending.count < limits.commitGroup && !stopping
                && ContinuousClock.now - committed < .seconds(limits.commitDelay)
            {
                delay()
            }
            let batch = pending.take(maxBatch, spare: &spare)
            let waiting = pending.count
            condition.unlock()
            AdvocateMetrics.clickBatch(size: batch.count, waiting: waiting)
            write(batch)
            committed = ContinuousClock.now
            lastBatch = batch.count
            spare = (consume batch).emptied(keep: 2 * maxBatch)
            // At least as many as came in, so that the backlog cannot grow past its limit under any load.
            if unmoved > limits.backlog && Date() >= retryAt { move(max(limits.busySlice, lastBatch)) }
        }
    }

    /// The commit delay (``Limits/commitDelay``), under `condition`'s lock: until a group is full, the writer stops,
    /// the delay is over, or a gap passes without a new click.
    private func delay() {
        let end = Date(timeIntervalSinceNow: limits.commitDelay)
        var seen = pending.count
        while pending.count < limits.commitGroup && !stopping {
            let gap = min(end, Date(timeIntervalSinceNow: limits.commitGap))
            if condition.wait(until: gap) { continue }  // a full group or a stop: checked above
            if pending.count == seen || Date() >= end { return }
            seen = pending.count
        }
    }

    private func write(_ batch: Queue) {
        let result: Result<Void, any Error>
        do {
            let taken = try database.takeClicks(batch.clicks)
            if database.usesClickInbox { unmoved += batch.count }
            for (click, new) in zip(batch.clicks, taken) where new {
                // Counted when taken. On PostgreSQL a request the proxy retried after another server stored it is
                // not counted twice; on SQLite the inbox cannot tell yet, and it counts on both servers (the store
                // keeps one; see `advocate_clicks_total` in the README).
                AdvocateMetrics.click(kind: click.storedKind, classification: click.verdict.classification.rawValue)
            }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        // Tasks are resumed here; each event loop (a few, one per core) gets one hop with all of its answers.
        var loops: [(loop: any EventLoop, done: [@Sendable (Result<Void, any Error>) -> Void])] = []
        for waiter in batch.waiters {
            guard let loop = waiter.loop else {
                waiter.done(result)
                continue
            }
            if let index = loops.firstIndex(where: { $0.loop === loop }) {
                loops[index].done.append(waiter.done)
            } else {
                loops.append((loop, [waiter.done]))
            }
        }
        for (loop, done) in loops { loop.execute { for callback in done { callback(result) } } }
    }

    /// Moves a slice of the inbox and returns whether the next slice may follow at once (this writer's own clicks
    /// still wait); a failure (the store busy beyond its timeout) leaves the clicks in the inbox, committed, for the
    /// next move.
    @discardableResult
    private func move(_ slice: Int) -> Bool {
        do {
            let moved = try database.moveInboxClicks(limit: slice)
            let own = unmoved - moved
            // A full slice may leave clicks that this writer never counted: another process's on the same file.
            // They are moved too, until a slice comes back short, but one slice per idle time, so that a server
            // taking a burst beside this one is not kept waiting for the write lock slice after slice. (A slice
            // ends with a whole group commit, so it may hold more than asked for.)
            unmoved = moved < slice ? 0 : max(own, 1)
            failedMoves = 0
            return moved >= slice && own > 0
        } catch {
            failedMoves += 1
            // 0.2 s after the first failure, doubling up to a minute (never sooner than the idle time).
            let pause = min(limits.idle * Double(1 << min(failedMoves, 10)), 60)
            retryAt = Date(timeIntervalSinceNow: pause)
            logger.error("moving clicks from the inbox failed (they stay there, committed; retried): \(error)")
            return false
        }
    }
}
