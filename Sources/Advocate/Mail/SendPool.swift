import AdvocateCore
import Foundation
import Synchronization

/// One message to send, with what to do around it, all run on the sending thread: `prepare` builds the message
/// (rendering is spread over the threads; `nil` means there is nothing to send, and `skip` is called),
/// `handedOver` right before the end of the message can leave (the ledger counts the attempt and notes that it may
/// now be delivered; a throw abandons the message before its end), `end` receives the outcome and how far the
/// message got, and calls its third argument once the outcome is kept where a crash cannot take it (``OutcomeJournal``)
/// if that is before the ledger's commit: the next message's end may then go. Nothing is written before the
/// transaction: until its end, a message is only claimed.
struct SendJob: Sendable {
    /// How far a message got before its outcome.
    enum Reach: Sendable, Equatable {
        /// It ended before its end was offered: refused, timed out or cut off during the transaction.
        case beforeEnd
        /// Its end was held back at the gate (another message's reply took too long): not an attempt.
        case heldBack
        /// `handedOver` ran and returned: the ledger knows its end may have left.
        case handedOver
        /// `handedOver` threw ``NoLongerDue``: the ledger settled the message otherwise meanwhile; its end was
        /// not sent and it has no outcome to record.
        case withdrawn

        /// Whether a message that got this far with `outcome` was an attempt on its recipient: not held back,
        /// withdrawn, or turned away by a relay that could not be reached.
        func isAttempt(_ outcome: SendOutcome) -> Bool {
            (self == .beforeEnd || self == .handedOver) && outcome.isAttempt
        }
    }

    /// Whether the run gave up before the job's turn (the relay is gone): then the job is dropped untouched, its
    /// recipient left due (a claimed delivery is given back with the run's claims).
    var abandoned: @Sendable () -> Bool = { false }
    var prepare: @Sendable () -> OutgoingMail?
    var skip: @Sendable () -> Void
    var handedOver: @Sendable (OutgoingMail) throws -> Void = { _ in }
    var end: @Sendable (SendOutcome, Reach, _ kept: () -> Void) -> Void
}

/// A fixed set of dedicated threads, one per connection, that send jobs from a bounded queue. `curl_easy_perform`
/// blocks its thread, so this keeps it off Swift's cooperative pool; the bounded queue keeps memory flat however
/// many ambassadors there are.
final class SendPool: Sendable {
    private let queue: BlockingQueue<SendJob>
    private let done: DispatchGroup = DispatchGroup()
    private let limiter: RateLimiter?
    /// Lets one message at a time past the end of its data, paced (``EndGate``).
    private let ends: EndGate

    /// Opens `settings.connections` sessions of `transport`, each on its own thread, sending at most
    /// `settings.maxPerSecond`. A message waits at most half the transfer timeout from its start for another
    /// message's end to be settled (``ends``); after that it is abandoned before its end leaves and tried again
    /// later, so that one stalled reply cannot run the others into their timeouts with their ends handed over.
    init(transport: any MailTransport, settings: SMTPConfig) throws {
        queue = BlockingQueue(capacity: settings.connections * 4)
        limiter = settings.maxPerSecond > 0 ? RateLimiter(perSecond: settings.maxPerSecond) : nil
        ends = EndGate(share: settings.inDoubtShare)
        let endWait = Double(settings.timeoutSeconds) / 2
        for index in 0..<settings.connections {
            let session = try transport.makeSession()
            let box = SessionBox(session: session)
            done.enter()
            let thread = Thread.named("smtp-\(index)") { [queue, limiter, done, ends] in
                while let job = queue.take() {
                    if job.abandoned() {
                        queue.finishedOne()
                        continue
                    }
                    guard let mail = job.prepare() else {
                        job.skip()
                        queue.finishedOne()
                        continue
                    }
                    limiter?.acquire()
                    let started = ContinuousClock.now
                    var gateHeld = false
                    var inDoubtSince: Double?
                    var reach = SendJob.Reach.beforeEnd
                    let deadline = ends.time + endWait
                    let outcome = box.session.send(mail) {
                        guard ends.enter(before: deadline) else {
                            reach = .heldBack
                            throw EndHeldBack(reason: "another message's reply took too long; this one was held back")
                        }
                        gateHeld = true
                        do { try job.handedOver(mail) } catch is NoLongerDue {
                            reach = .withdrawn
                            throw EndHeldBack(reason: "withdrawn: settled otherwise while it was being sent")
                        }
                        reach = .handedOver
                        inDoubtSince = ends.time
                    }
                    AdvocateMetrics.smtp(ContinuousClock.now - started)
                    // The gate opens once the outcome is kept: when the job says so, or after it returns.
                    let leave = {
                        if gateHeld { ends.leave(inDoubtSince: inDoubtSince) }
                        gateHeld = false
                    }
                    // An end handed over was an attempt (the hand-over note counted it), whatever the reply.
                    job.end(reach == .handedOver ? outcome.asAttempt : outcome, reach, leave)
                    leave()
                    queue.finishedOne()
                }
                box.session.close()
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// The share of the sending time a message was in doubt so far (``EndGate/share``).
    var inDoubtShare: Double { ends.share }

    /// The mean time a message was in doubt so far, in seconds (``EndGate/meanInDoubt``).
    var meanInDoubt: Double { ends.meanInDoubt }

    /// Queues a job, waiting while the queue is full.
    func submit(_ job: SendJob) { queue.put(job) }

    /// Waits until every queued job has finished.
    func drain() { queue.waitUntilIdle() }

    /// Finishes the queued jobs, closes the sessions and stops the threads.
    func shutdown() {
        queue.close()
        done.wait()
    }
}

/// Hands a session to exactly one thread, the only one that ever uses it: hence Sendable by hand.
private final class SessionBox: @unchecked Sendable {
    let session: any MailSession
    init(session: any MailSession) { self.session = session }
}

/// A bounded FIFO for threads: `put` waits while full, `take` waits while empty and returns `nil` once closed.
/// Waiters are woken only by the change they wait for (the queue no longer empty, half empty, or idle), not by
/// every message: the sending threads and the producer would otherwise wake each other several times per message.
/// A full queue wakes its producer once it is down to half, not at every take: the producer then refills it in one
/// go instead of sleeping and waking once per message.
/// Sendable by hand: every mutable field is touched only under `condition`.
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var inFlight = 0
    private var closed = false
    /// How many `put` calls wait for room.
    private var puttersWaiting = 0
    /// How many times a take woke waiting putters.
    private var wakeups = 0
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Adds an item, waiting while the queue is full; false, and nothing added, once the queue is closed (the
    /// threads end once a closed queue is empty, so nothing might take it, and ``waitUntilIdle()`` would wait for
    /// it for ever).
    @discardableResult
    func put(_ item: Element) -> Bool {
        condition.lock()
        while items.count - head >= capacity && !closed {
            puttersWaiting += 1
            condition.wait()
            puttersWaiting -= 1
        }
        guard !closed else {
            condition.unlock()
            return false
        }
        if head == items.count { condition.broadcast() }  // takers wait only on an empty queue
        items.append(item)
        inFlight += 1
        condition.unlock()
        return true
    }

    /// How many times a take woke waiting putters (for tests).
    var putterWakeups: Int {
        condition.lock()
        defer { condition.unlock() }
        return wakeups
    }

    /// How many `put` calls wait for room (for tests).
    var waitingPutters: Int {
        condition.lock()
        defer { condition.unlock() }
        return puttersWaiting
    }

    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        // Putters wait only on a full queue, and are woken once it is down to half.
        if puttersWaiting > 0 && items.count - head - 1 <= capacity / 2 {
            wakeups += 1
            condition.broadcast()
        }
        let item = items[head]
        head += 1
        if head > 1024 {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    func finishedOne() {
        condition.lock()
        inFlight -= 1
        if inFlight == 0 { condition.broadcast() }  // waitUntilIdle waits for this alone
        condition.unlock()
    }

    func waitUntilIdle() {
        condition.lock()
        while inFlight > 0 { condition.wait() }
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Spaces messages evenly so that all connections together stay under a rate.
final class RateLimiter: Sendable {
    private let interval: Double
    private let next = Mutex<Double>(0)

    init(perSecond: Double) { interval = 1 / perSecond }

    /// Blocks the calling thread until it may send.
    func acquire() {
        let now = ProcessInfo.processInfo.systemUptime
        let slot = next.withLock { next -> Double in
            let slot = max(now, next)
            next = slot + interval
            return slot
        }
        if slot > now { Thread.sleep(forTimeInterval: slot - now) }
    }
}
