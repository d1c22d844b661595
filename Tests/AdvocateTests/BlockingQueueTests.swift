import Foundation
import Synchronization
import Testing

@testable import Advocate

@Suite("The send pool's bounded queue")
struct BlockingQueueTests {
    @Test("first in, first out; a full queue holds its producer until half is taken; close ends takers and puts")
    func fullQueueWaitsForHalf() throws {
        let queue = BlockingQueue<Int>(capacity: 4)
        for value in 1...4 { queue.put(value) }
        let putDone = Mutex(false)
        let producer = Thread {
            queue.put(5)
            putDone.withLock { $0 = true }
        }
        producer.start()
        #expect(waitUntil(timeout: 10) { queue.waitingPutters == 1 }, "a put on a full queue waits")
        // One taken leaves three of four: still more than half, so the producer is not woken.
        #expect(queue.take() == 1)
        #expect(queue.putterWakeups == 0, "woken before the queue was down to half")
        #expect(queue.waitingPutters == 1)
        // Down to two of four: the producer is woken and puts its item.
        #expect(queue.take() == 2)
        #expect(queue.putterWakeups == 1)
        #expect(waitUntil(timeout: 10) { putDone.withLock { $0 } })
        #expect((0..<3).map { _ in queue.take() } == [3, 4, 5], "in the order put")
        for _ in 1...5 { queue.finishedOne() }
        queue.waitUntilIdle()
        queue.close()
        #expect(queue.take() == nil, "a closed, empty queue ends its takers")
        #expect(!queue.put(6), "a closed queue takes nothing more")
        #expect(queue.take() == nil)
        queue.waitUntilIdle()  // nothing in flight: returns at once
    }
}
