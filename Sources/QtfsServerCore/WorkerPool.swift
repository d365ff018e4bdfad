// Worker threads for metadata operations (they switch credentials, and may block).
// Finished responses go back to the event loop through `Completions`, which wakes the
// loop with an eventfd read armed in the ring.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

final class Completions: @unchecked Sendable {
    let eventfd: Int32
    private let lock = Lock()
    private var items: [(conn: UInt64, frame: OutBuffer)] = []

    init() throws {
        // Blocking on purpose: io_uring answers a read on an O_NONBLOCK fd with EAGAIN at
        // once instead of waiting, which would turn the armed read into a busy loop.
        eventfd = try sys("eventfd") { CQtfsSys.eventfd(0, Int32(EFD_CLOEXEC)) }
    }
    deinit { close(eventfd) }

    func push(conn: UInt64, frame: OutBuffer) {
        let wasEmpty = lock.withLock { () -> Bool in
            items.append((conn, frame))
            return items.count == 1
        }
        // The loop drains everything on each wake, so only the first item needs a wake-up.
        if wasEmpty { wake() }
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(eventfd, &one, 8)
    }

    func drain() -> [(conn: UInt64, frame: OutBuffer)] {
        lock.withLock {
            defer { items.removeAll(keepingCapacity: true) }
            return items
        }
    }
}

final class WorkerPool: @unchecked Sendable {
    private let lock = Lock()
    private let cond = Condition()
    private var queue: [Job] = []
    private var head = 0
    private var stopping = false
    private var threads: [pthread_t] = []
    private var running = 0   // worker threads that have not returned yet

    init(count: Int, router: Router, completions: Completions) throws {
        for _ in 0..<count {
            lock.withLock { running += 1 }
            do {
                threads.append(try Threads.start(detached: false) { [self] in
                    self.work(router, completions)
                    self.lock.withLock { self.running -= 1 }
                    self.cond.broadcast()
                })
            } catch {
                lock.withLock { running -= 1 }
                throw error
            }
        }
    }

    func submit(_ job: Job) {
        lock.withLock { queue.append(job) }
        cond.signal()
    }

    /// Stops the workers. A worker stuck in a blocking call (a fifo open without a peer)
    /// cannot be interrupted: after `grace` seconds it is left behind, detached.
    /// Returns false in that case.
    @discardableResult
    func stop(grace: Int = 2) -> Bool {
        lock.withLock { stopping = true }
        cond.broadcast()
        let deadline = MonotonicClock.now() + Double(grace)
        let allExited = lock.withLock { () -> Bool in
            while running > 0 {
                if !cond.wait(lock, until: deadline) { break }
            }
            return running == 0
        }
        for t in threads { allExited ? pthread_join(t, nil) : pthread_detach(t) }
        threads = []
        return allExited
    }

    private func next() -> Job? {
        lock.withLock {
            while head == queue.count && !stopping { cond.wait(lock) }
            if stopping { return nil }
            let job = queue[head]
            head += 1
            if head == queue.count || head > 1024 { queue.removeFirst(head); head = 0 }
            return job
        }
    }

    private func work(_ router: Router, _ completions: Completions) {
        while let job = next() {
            let frame = router.onWorker(job)
            completions.push(conn: job.conn, frame: OutBuffer(copying: frame))
        }
    }
}
