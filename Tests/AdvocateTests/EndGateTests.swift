import Foundation
import Synchronization
import Testing

@testable import Advocate

/// A clock moved by hand; sleeping moves it and is noted.
private final class HandClock: Sendable {
    private let time = Mutex(1_000.0)
    private let waits = Mutex<[Double]>([])

    var now: Double { time.withLock { $0 } }
    /// The gate's waits for its pace, in order (none really sleeps: each moves the clock).
    var slept: [Double] { waits.withLock { $0 } }

    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }

    func wait(_ seconds: Double) {
        waits.withLock { $0.append(seconds) }
        advance(seconds)
    }

    func gate(share: Double) -> EndGate {
        EndGate(share: share, now: { self.now }, sleep: { self.wait($0) })
    }
}

@Suite("The end gate's pace, on a clock moved by hand")
struct EndGateTests {
    /// One message's end: it enters within `within` seconds and is in doubt for `length`.
    private func end(_ gate: EndGate, _ clock: HandClock, within: Double = 60, lasting length: Double) {
        #expect(gate.enter(before: clock.now + within))
        let since = clock.now
        clock.advance(length)
        gate.leave(inDoubtSince: since)
    }

    /// Runs `count` ends back to back, each in doubt for `length` seconds; returns the share of the time in doubt.
    private func backToBack(_ gate: EndGate, _ clock: HandClock, count: Int, length: Double) -> Double {
        let start = clock.now
        for _ in 0..<count { end(gate, clock, lasting: length) }
        return Double(count) * length / (clock.now - start)
    }

    @Test(
        "back to back, the time in doubt keeps to the share, for ends shorter and longer than the burst",
        arguments: [0.25, 0.5, 0.8])
    func keepsTheShare(share: Double) {
        for length in [0.000_2, 0.002, 0.05, 0.2] {
            let clock = HandClock()
            let gate = clock.gate(share: share)
            let measured = backToBack(gate, clock, count: 400, length: length)
            #expect(abs(measured - share) < 0.005, "share \(share), ends of \(length) s: \(measured)")
            #expect(abs(gate.share - measured) < 0.005, "the gate's own figure matches")
            #expect(abs(gate.meanInDoubt - length) < 1e-9, "each end was in doubt for \(length) s")
            // After the first end, each waits what the previous one earned too little.
            let expected = length * (1 - share) / share
            #expect(clock.slept.allSatisfy { abs($0 - expected) < 1e-9 }, "\(clock.slept.prefix(3)) vs \(expected)")
        }
    }

    @Test("a share of 1 never waits, however long the ends")
    func unpaced() {
        let clock = HandClock()
        let measured = backToBack(clock.gate(share: 1), clock, count: 50, length: 2)
        #expect(clock.slept.isEmpty)
        #expect(measured == 1)
    }

    @Test("after a stalled reply the next end waits at most longestWait, not the stall's share")
    func stallIsNotRepaidInFull() {
        let clock = HandClock()
        let gate = clock.gate(share: 0.5)
        end(gate, clock, lasting: 20)
        #expect(gate.enter(before: clock.now + 60))
        #expect(clock.slept == [EndGate.longestWait])
    }

    @Test("an end after a pause begins at once; an end the pace would start after its deadline is refused")
    func pauseAndDeadline() {
        let clock = HandClock()
        let gate = clock.gate(share: 0.25)
        end(gate, clock, lasting: 0.1)
        // The next may begin 0.3 s later: a deadline before that is refused, without waiting, and frees the gate.
        #expect(!gate.enter(before: clock.now + 0.2))
        #expect(clock.slept.isEmpty)
        clock.advance(0.5)  // a pause longer than the debt
        end(gate, clock, within: 0.01, lasting: 0.001)
        #expect(clock.slept.isEmpty)
        // An end whose note was never written costs nothing; a short end after a pause is paid from the burst.
        #expect(gate.enter(before: clock.now + 60))
        gate.leave(inDoubtSince: nil)
        end(gate, clock, lasting: 0.05)
        #expect(clock.slept.isEmpty, "\(clock.slept)")
        #expect(abs(gate.meanInDoubt - (0.1 + 0.001 + 0.05) / 3) < 1e-9, "the end without a note is not counted")
        // That one was longer than the burst: the next waits for the rest.
        #expect(gate.enter(before: clock.now + 60))
        let rest = (0.05 - 0.05 * 0.25 - (EndGate.burst - 0.001 * 0.75)) / 0.25
        #expect(clock.slept.count == 1 && abs(clock.slept[0] - rest) < 1e-9, "\(clock.slept) vs \(rest)")
    }

    @Test("first come, first served: messages waiting for the gate enter in the order they came")
    func firstComeFirstServed() throws {
        let clock = HandClock()
        let gate = clock.gate(share: 1)
        #expect(gate.enter(before: clock.now + 60))
        let order = Mutex<[Int]>([])
        let done = DispatchGroup()
        for index in 0..<5 {
            done.enter()
            let thread = Thread {
                if gate.enter(before: clock.now + 60) {
                    order.withLock { $0.append(index) }
                    gate.leave(inDoubtSince: clock.now)
                }
                done.leave()
            }
            thread.start()
            // Each in line before the next one comes.
            let deadline = Date(timeIntervalSinceNow: 10)
            while gate.waiting < index + 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
            try #require(gate.waiting == index + 1)
        }
        gate.leave(inDoubtSince: clock.now)
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
    }

    @Test("the summary line gives the share and the time per message in doubt, as scripts/bench reads them")
    func summaryLine() {
        var summary = SendSummary(week: "2026-W49")
        summary.inDoubtShare = 0.5
        summary.inDoubtSecondsPerMessage = 0.000_334
        #expect(summary.line.contains("in doubt 50 % of the time, 0.33 ms per message"), "\(summary.line)")
        summary.inDoubtShare = 0
        #expect(!summary.line.contains("in doubt"), "no end went through: nothing said")
    }
}
