// Blocking waits for the hot path (QtfsSystem's Lock and Condition): FUSE worker threads
// block here, so no Swift concurrency (async) is involved.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import QtfsSystem

/// One blocked caller waiting for its response. Each thread owns one (thread-local), since a
/// thread waits for one call at a time: no allocation per request. Its fields belong to the
/// connection it is waiting on and are only touched under that connection's state lock.
final class Waiter: @unchecked Sendable {
    let cond = Condition()
    var done = false
    var reply = Reply(status: 0, payload: [])
    /// Give up waiting at this CLOCK_MONOTONIC time (soft mounts); nil waits forever.
    /// Set by the thread itself around one operation.
    var deadline: Double?
    /// When a FUSE interrupt came (another thread sets it; a Double's bits, 0: none): the
    /// operation ends with EINTR once it is still waiting `Interrupts.grace` later.
    let interruptedAt = Atomic<UInt64>(0)
    /// The connection this thread is waiting on, for the interrupt to wake it.
    let waitingOn = Mutex<Connection?>(nil)
    /// Token of the request (FUSE req pointer) the interrupt belongs to; 0 when none.
    let armed = Atomic<UInt>(0)
    /// This thread is settling writes behind (WriteBehind.swift): its own requests go straight out.
    var settling = false

    /// Stores the reply and wakes the thread. Call with the connection's state lock held.
    func complete(_ r: Reply) {
        reply = r
        done = true
        cond.signal()
    }

    /// Takes the stored reply. Call with the state lock held, after `done`.
    func take() -> Reply {
        done = false
        let r = reply
        reply = Reply(status: 0, payload: [])
        return r
    }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in
            if let p { Unmanaged<Waiter>.fromOpaque(p).release() }
        }
        return k
    }()

    /// The calling thread's waiter, created on first use and freed when the thread exits.
    static func current() -> Waiter {
        if let p = pthread_getspecific(key) {
            return Unmanaged<Waiter>.fromOpaque(p).takeUnretainedValue()
        }
        let w = Waiter()
        pthread_setspecific(key, Unmanaged.passRetained(w).toOpaque())
        return w
    }
}

extension Waiter {
    /// Why this thread must stop waiting now (interrupt, passed deadline), or nil.
    func reasonToStop() -> Reply? {
        if Interrupts.abandoned.load(ordering: .acquiring) { return .interrupted }
        if let end = interruptEnd, Clock.now() >= end { return .interrupted }
        if let d = deadline, Clock.now() >= d { return .timedOut }
        return nil
    }

    /// When a wait must look again: the deadline, the end of an interrupt's grace, or the
    /// periodic recheck of a hard wait.
    func wakeBy() -> Double {
        let t = deadline ?? Clock.now() + Interrupts.recheck
        return interruptEnd.map { min(t, $0) } ?? t
    }

    private var interruptEnd: Double? {
        let at = interruptedAt.load(ordering: .acquiring)
        return at == 0 ? nil : Double(bitPattern: at) + Interrupts.grace
    }
}

/// The client's view of MonotonicClock: now, and sleeps that end when an operation must stop.
public enum Clock {
    public static func now() -> Double { MonotonicClock.now() }

    /// Sleeps up to `seconds`, in short slices, returning early when `w` must stop.
    static func sleep(_ seconds: Double, unless w: Waiter) {
        let end = now() + seconds
        while now() < end, w.reasonToStop() == nil {
            var ts = timespec(tv_sec: 0, tv_nsec: Int(min(end - now(), 0.05) * 1e9))
            nanosleep(&ts, nil)
        }
    }
}
