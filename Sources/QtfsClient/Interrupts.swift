// FUSE interrupts end a waiting request: a signalled process must never stay blocked on
// the network (with SIGKILL the kernel would otherwise wait for our answer forever).
// The FUSE layer arms the calling thread for one request; the interrupt callback, on
// another thread, marks it and wakes it wherever it waits (answer, reconnect, backoff).
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import QtfsSystem

public enum Interrupts {
    /// Arms the calling thread for the request identified by `token`; returns the context
    /// to hand to `fire` (valid while the thread lives).
    public static func arm(token: UInt) -> UnsafeMutableRawPointer {
        let w = Waiter.current()
        w.interruptedAt.store(0, ordering: .releasing)
        w.armed.store(token, ordering: .releasing)
        return Unmanaged.passUnretained(w).toOpaque()
    }

    /// The request is answered: a late interrupt for it must not hit the next one.
    public static func disarm() {
        let w = Waiter.current()
        w.armed.store(0, ordering: .releasing)
        w.interruptedAt.store(0, ordering: .releasing)
    }

    /// The file system is going away (unmounted, or qtfs-fuse told to exit): every wait for
    /// the server ends now (EINTR), so libfuse can join its worker threads and the process
    /// can exit even when a hard mount waits for a server that is gone.
    public static func abandonAll() { abandoned.store(true, ordering: .releasing) }
    static let abandoned = Atomic<Bool>(false)
    /// Longest a wait sleeps without looking at `abandoned` (hard mounts have no deadline).
    static let recheck = 1.0
    /// An interrupt ends a wait only when the answer has not come this long after it. Go
    /// programs get signals all the time (the runtime preempts goroutines with SIGURG), and
    /// each one reaching a thread inside a FUSE call makes the kernel send an interrupt: an
    /// immediate EINTR failed calls the server was about to answer (dockerd unpacking a
    /// layer: "chtimes ...: interrupted system call"). A dead server still lets go of a
    /// signalled process, that much later.
    static let grace = 1.0

    /// Called from the interrupt callback: stops the thread's wait if it still serves `token`.
    public static func fire(_ context: UnsafeMutableRawPointer, token: UInt) {
        let w = Unmanaged<Waiter>.fromOpaque(context).takeUnretainedValue()
        guard token != 0, w.armed.load(ordering: .acquiring) == token else { return }
        w.interruptedAt.store(Clock.now().bitPattern, ordering: .releasing)
        if let c = w.waitingOn.withLock({ $0 }) { c.wake(w) }
    }
}

/// libfuse joins its worker threads before its loop returns, and a worker of a hard mount
/// may be waiting for a server that is gone. This thread polls `exited` (the FUSE session
/// ended: SIGTERM, SIGINT, unmount, abort) and then ends every wait, so qtfs-fuse can
/// always exit.
public final class ExitWatcher: @unchecked Sendable {
    private let exited: () -> Bool
    private let done = Atomic<Bool>(false)
    private var thread: pthread_t?

    public init(exited: @escaping () -> Bool) {
        self.exited = exited
        thread = try? Threads.start(detached: false) { [self] in watch() }
    }

    private func watch() {
        while !done.load(ordering: .acquiring) {
            if exited() { Interrupts.abandonAll(); return }
            usleep(200_000)
        }
    }

    /// The loop has returned: ends the watcher (before the FUSE session is destroyed).
    public func stop() {
        Interrupts.abandonAll()
        done.store(true, ordering: .releasing)
        if let thread { pthread_join(thread, nil) }
    }
}
