// Per-operation statistics of this mount: the time from the kernel's request (the reply
// value is made, FuseOpsTable.swift) to the handler's answer, and the errno it answered with.
// The answer records it (FuseReply, or LateReply for a request answered later from another
// thread: host fifos), so a request is counted once, when it stops being in flight.
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
    /// Kernel LOOKUPs answered by lookups sent ahead (AheadAnswers).
    public static var lookupsAhead: UInt64 { lookupsAnsweredAhead.load(ordering: .relaxed) }

    /// `op`, started at `t0`, was answered with `errno` (0: success) and is no longer in flight.
    static func answered(_ op: FuseOp, errno: Int32, since t0: UInt64) {
        inFlight.wrappingSubtract(1, ordering: .relaxed)
        registry.record(op.rawValue, errno: errno, nanos: MonotonicClock.nanoseconds() &- t0)
        if errno != 0 { FuseLog.requestFailed(op, errno) }
    }
}
