// pthread mutex and condition variable for threads that block (FUSE workers, the server's
// workers, relay and remote-exec threads): no Swift concurrency is involved. Storage is
// heap-allocated so it never moves.
#if canImport(Glibc)
import Glibc
#endif

public final class Lock: @unchecked Sendable {
    /// The mutex itself, for pthread_cond_wait on condition variables kept elsewhere.
    public let raw = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    public init() { pthread_mutex_init(raw, nil) }
    deinit { pthread_mutex_destroy(raw); raw.deallocate() }

    @inlinable @inline(__always) public func lock() { pthread_mutex_lock(raw) }
    @inlinable @inline(__always) public func unlock() { pthread_mutex_unlock(raw) }

    /// Inlinable, so callers in other modules get it specialised for their T: a generic
    /// call instead makes the runtime build T's metadata (a tuple, an optional) the first
    /// time each caller runs (Preallocated.swift says what that costs).
    @inlinable @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(raw)
        defer { pthread_mutex_unlock(raw) }
        return try body()
    }
}

/// A condition variable used with one `Lock`, waiting on CLOCK_MONOTONIC deadlines.
public final class Condition: @unchecked Sendable {
    private let c = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    public init() {
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(c, &attr)
        pthread_condattr_destroy(&attr)
    }
    deinit { pthread_cond_destroy(c); c.deallocate() }

    /// Call with `lock` held.
    public func wait(_ lock: Lock) { pthread_cond_wait(c, lock.raw) }

    /// Call with `lock` held; false when `deadline` (MonotonicClock seconds) passed first.
    public func wait(_ lock: Lock, until deadline: Double) -> Bool {
        var ts = MonotonicClock.deadline(at: deadline)
        return pthread_cond_timedwait(c, lock.raw, &ts) != ETIMEDOUT
    }

    public func signal() { pthread_cond_signal(c) }
    public func broadcast() { pthread_cond_broadcast(c) }
}
