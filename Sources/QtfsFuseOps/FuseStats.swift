// Per-operation statistics of this mount, recorded around every libfuse callback: the
// time from the kernel's request to the handler's reply, and the errno it replied with.
// Every error reply goes through `FuseReply.error`, the one place that notes the errno: in this
// thread's record, without a lock, for a handler that answers before returning (nearly
// all); at the reply itself for a request answered later from another thread (host fifos).
import CFuse
import Glibc
import QtfsControl
import Synchronization
import QtfsSystem

/// The libfuse low-level operations, named as in fuse_lowlevel_ops.
public enum FuseOp: Int, CaseIterable {
    case lookup, forget, forget_multi, getattr, setattr, readlink, mknod, mkdir, unlink, rmdir, symlink, rename, link
    case open, create, read, write, flush, fsync, release, lseek, fallocate, poll
    case opendir, readdir, readdirplus, releasedir, statfs, access, setxattr, getxattr, listxattr, removexattr
}

public enum FuseStats {
    public static let registry = StatsRegistry(names: FuseOp.allCases.map { "\($0)" })
    /// FUSE requests being handled right now (waiting for a reconnect included).
    public static let inFlight = Atomic<UInt64>(0)

    static func record(_ op: FuseOp, errno: Int32, since t0: UInt64) {
        registry.record(op.rawValue, errno: errno, nanos: MonotonicClock.nanoseconds() &- t0)
        if errno != 0 { FuseLog.requestFailed(op, errno) }
    }
}

/// Runs one libfuse callback, counting it.
@inline(__always)
func timed(_ op: FuseOp, _ body: () -> Void) {
    let r = CallbackRecord.current()
    r.start(op)
    FuseStats.inFlight.wrappingAdd(1, ordering: .relaxed)
    body()
    r.running = false
    if r.answeredLater { return }   // counted at its reply (LateReplies)
    FuseStats.inFlight.wrappingSubtract(1, ordering: .relaxed)
    FuseStats.record(op, errno: r.errno, since: r.started)
}

/// Notes how `req` was answered: call it before any reply to a request `LateReplies`
/// expects (`FuseReply.error` does it for error replies).
func noteReply(_ req: fuse_req_t?, _ e: Int32) {
    let r = CallbackRecord.current()
    if r.running && !r.answeredLater { r.errno = e } else { LateReplies.answered(req, errno: e) }
}

/// The callback running on this thread (libfuse runs one at a time per thread).
final class CallbackRecord {
    private(set) var op = FuseOp.lookup
    private(set) var started: UInt64 = 0
    var errno: Int32 = 0
    /// Inside `timed`.
    var running = false
    /// Its reply comes later, from another thread (LateReplies).
    var answeredLater = false

    @inline(__always)
    func start(_ op: FuseOp) {
        self.op = op
        errno = 0
        answeredLater = false
        running = true
        started = MonotonicClock.nanoseconds()
    }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in
            if let p { Unmanaged<CallbackRecord>.fromOpaque(p).release() }
        }
        return k
    }()

    static func current() -> CallbackRecord {
        if let p = pthread_getspecific(key) { return Unmanaged<CallbackRecord>.fromOpaque(p).takeUnretainedValue() }
        let r = CallbackRecord()
        pthread_setspecific(key, Unmanaged.passRetained(r).toOpaque())
        return r
    }
}

/// Requests answered after their callback returned: host fifo operations, answered from
/// the stream channel's thread. They stay in flight until then. Rare: a lock is fine.
enum LateReplies {
    private static let pending = Mutex<[UInt: (FuseOp, UInt64)]>([:])

    /// The callback running `req` on this thread leaves its reply to another thread.
    /// Does nothing outside a callback (a continuation of a request already expected).
    static func expect(_ req: fuse_req_t?) {
        let r = CallbackRecord.current()
        guard r.running, !r.answeredLater else { return }
        r.answeredLater = true
        let entry = (r.op, r.started)
        pending.withLock { $0[UInt(bitPattern: req)] = entry }
    }

    static func answered(_ req: fuse_req_t?, errno: Int32) {
        guard let (op, t0) = pending.withLock({ $0.removeValue(forKey: UInt(bitPattern: req)) }) else { return }
        FuseStats.inFlight.wrappingSubtract(1, ordering: .relaxed)
        FuseStats.record(op, errno: errno, since: t0)
    }
}
