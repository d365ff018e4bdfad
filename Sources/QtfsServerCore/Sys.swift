// The syscall funnel: every call that can fail goes through `sys`, which retries EINTR
// and throws the errno as an `FsError`, the value handlers answer with.
import Glibc
internal import CQtfsSys

/// A Linux errno to answer with. Handlers throw it; the dispatcher turns it into a status.
struct FsError: Error, Equatable {
    let errno: Int32
    init(_ errno: Int32) { self.errno = errno }
    static var current: FsError { FsError(Glibc.errno) }
}

@inline(__always) @discardableResult
func sys<T: FixedWidthInteger>(_ call: () -> T) throws -> T {
    while true {
        let r = call()
        if r >= 0 { return r }
        let e = Glibc.errno
        if e != EINTR { throw FsError(e) }
    }
}

/// A plain pthread mutex (loop and workers share a few small tables).
final class Lock: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil) }
    deinit { pthread_mutex_destroy(m); m.deallocate() }
    @inline(__always) func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
    fileprivate var raw: UnsafeMutablePointer<pthread_mutex_t> { m }
}

/// A condition variable paired with a `Lock`.
final class Condition: @unchecked Sendable {
    private let c = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    init() { pthread_cond_init(c, nil) }
    deinit { pthread_cond_destroy(c); c.deallocate() }
    /// Call with `lock` held (inside `lock.withLock`).
    func wait(_ lock: Lock) { pthread_cond_wait(c, lock.raw) }
    /// Waits until signalled or `deadline` (CLOCK_REALTIME); returns ETIMEDOUT on timeout.
    func wait(_ lock: Lock, until deadline: timespec) -> Int32 {
        var d = deadline
        return pthread_cond_timedwait(c, lock.raw, &d)
    }
    func signal() { pthread_cond_signal(c) }
    func broadcast() { pthread_cond_broadcast(c) }
}

/// Starts a detached-from-Foundation OS thread running `body`; returns its id for joining.
func startThread(_ body: @escaping () -> Void) throws -> pthread_t {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    let arg = Unmanaged.passRetained(Box(body)).toOpaque()
    var tid = pthread_t()
    let r = pthread_create(&tid, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, arg)
    if r != 0 {
        Unmanaged<Box>.fromOpaque(arg).release()
        throw FsError(r)
    }
    return tid
}

/// A NUL-terminated copy of `bytes` for C calls.
@inline(__always)
func withCString<T>(_ bytes: ArraySlice<UInt8>, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    var buf = [CChar](repeating: 0, count: bytes.count + 1)
    buf.withUnsafeMutableBytes { dst in
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress, let d = dst.baseAddress { d.copyMemory(from: s, byteCount: src.count) }
        }
    }
    return try buf.withUnsafeBufferPointer { try body($0.baseAddress!) }
}
