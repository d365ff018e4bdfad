// FUSE interrupts end a waiting request: a signalled process must never stay blocked on
// the network (with SIGKILL the kernel would otherwise wait for our answer forever).
// The FUSE layer arms the calling thread for one request; the interrupt callback, on
// another thread, marks it and wakes it wherever it waits (answer, reconnect, backoff).
import Synchronization

public enum Interrupts {
    /// Arms the calling thread for the request identified by `token`; returns the context
    /// to hand to `fire` (valid while the thread lives).
    public static func arm(token: UInt) -> UnsafeMutableRawPointer {
        let w = Waiter.current()
        w.interrupted.store(false, ordering: .releasing)
        w.armed.store(token, ordering: .releasing)
        return Unmanaged.passUnretained(w).toOpaque()
    }

    /// The request is answered: a late interrupt for it must not hit the next one.
    public static func disarm() {
        let w = Waiter.current()
        w.armed.store(0, ordering: .releasing)
        w.interrupted.store(false, ordering: .releasing)
    }

    /// Called from the interrupt callback: stops the thread's wait if it still serves `token`.
    public static func fire(_ context: UnsafeMutableRawPointer, token: UInt) {
        let w = Unmanaged<Waiter>.fromOpaque(context).takeUnretainedValue()
        guard token != 0, w.armed.load(ordering: .acquiring) == token else { return }
        w.interrupted.store(true, ordering: .releasing)
        if let c = w.waitingOn.withLock({ $0 }) { c.wake(w) }
    }
}
