// Per-operation statistics of this mount, recorded around every libfuse callback: the
// time from the kernel's request to the handler's reply, and the errno a failing handler
// answered (taken from `handle`, through a thread-local: a callback runs on one thread).
import Glibc
import QtfsControl
import Synchronization

/// The libfuse low-level operations, named as in fuse_lowlevel_ops.
enum FuseOp: Int, CaseIterable {
    case lookup, forget, forget_multi, getattr, setattr, readlink, mknod, mkdir, unlink, rmdir, symlink, rename, link
    case open, create, read, write, flush, fsync, release, lseek, fallocate, poll
    case opendir, readdir, readdirplus, releasedir, statfs, access, setxattr, getxattr, listxattr, removexattr
}

enum FuseStats {
    static let registry = StatsRegistry(names: FuseOp.allCases.map { "\($0)" })
    /// FUSE requests being handled right now.
    static let inFlight = Atomic<UInt64>(0)
}

/// Runs one libfuse callback, counting it.
@inline(__always)
func timed(_ op: FuseOp, _ body: () -> Void) {
    let t0 = MonotonicClock.nanos()
    _ = ReplyErrno.take()   // drop a value left by a handler that ran outside `timed`
    FuseStats.inFlight.wrappingAdd(1, ordering: .relaxed)
    body()
    FuseStats.inFlight.wrappingSubtract(1, ordering: .relaxed)
    let err = ReplyErrno.take()
    FuseStats.registry.record(op.rawValue, errno: err, nanos: MonotonicClock.nanos() &- t0)
    if err != 0 { FuseLog.requestFailed(op, err) }
}

/// The errno the current thread's handler replied with (0: success).
enum ReplyErrno {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    @inline(__always)
    static func set(_ e: Int32) { pthread_setspecific(key, UnsafeRawPointer(bitPattern: Int(e))) }

    @inline(__always)
    static func take() -> Int32 {
        guard let p = pthread_getspecific(key) else { return 0 }
        set(0)
        return Int32(truncatingIfNeeded: Int(bitPattern: p))
    }
}
