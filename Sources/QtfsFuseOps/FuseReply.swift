// The answer to one FUSE request. An operation gets a `Reply` and must give it up by
// calling exactly one of its consuming methods: the compiler refuses a second answer
// (the value is gone), and a reply dropped without an answer sends EIO from its deinit,
// so a forgotten path fails the call instead of hanging the caller.
// Lookup counts taken while answering (FuseEntry.swift) are given back when the answer is an
// error or does not reach the kernel (an interrupted request): the kernel never heard of them.
// The reply is made in one place, where libfuse's table hands a request to its operation
// (FuseOpsTable.swift); what the request says (who asks, interrupts) is in FuseRequest.swift.
// The answer is the request's last step: it is counted in FuseStats here, errno and latency.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

struct FuseReply: ~Copyable {
    let req: fuse_req_t?
    let fs: FS
    /// The operation and when libfuse handed it over (MonotonicClock nanoseconds).
    let op: FuseOp
    let started: UInt64
    /// Nodeids whose lookup count this answer took, one entry per count.
    var counted: [UInt64] = []
    /// An interrupt for this request ends its waits (FuseRequest.swift).
    var armed = false
    /// Set by an operation that turned out to change nothing on the host (a read-only
    /// open): its answer then leaves kept attributes valid (LookupAttrs.swift).
    var changedNothing = false
    private var changesHost: Bool { !op.changesNothing && !changedNothing }
    private var answered = false

    deinit {
        guard !answered else { return }
        // Unreachable by construction of the operations; an answer is still owed.
        for id in counted { fs.nodes.forget(id, 1) }
        fs.replies.err(req, EIO)
        if armed { Interrupts.disarm() }
        if changesHost { fs.lookupAttrs.changed() }
        FuseStats.answered(op, errno: EIO, since: started)
    }

    private mutating func rollback() {
        for id in counted { fs.nodes.forget(id, 1) }
        counted = []
    }

    /// Bookkeeping after libfuse took (rc 0) or refused the answer `errno` (0: success).
    private mutating func finish(_ rc: Int32, errno: Int32 = 0) {
        if rc != 0 { rollback() }
        answered = true
        if armed { Interrupts.disarm() }
        if changesHost { fs.lookupAttrs.changed() }
        FuseStats.answered(op, errno: errno, since: started)
    }

    // MARK: answers

    /// An errno, or 0 for success without data. The only way fuse_reply_err is called.
    consuming func error(_ e: Int32) {
        rollback()
        fs.replies.err(req, e)
        finish(0, errno: e)
    }

    /// A thrown Errno becomes its errno, anything else EIO.
    consuming func fail(_ error: any Error) { self.error((error as? Errno)?.code ?? EIO) }

    consuming func ok() { error(0) }

    /// The common shape of an operation: `work` runs interruptibly; success is answered 0,
    /// a thrown error with its errno.
    consuming func ok(after work: (borrowing FuseReply) throws -> Void) {
        interruptible()
        do {
            try work(self)
            ok()
        } catch { fail(error) }
    }

    consuming func none() {
        fs.replies.none(req)
        finish(0)
    }

    consuming func entry(_ e: fuse_entry_param) {
        var e = e
        finish(fs.replies.entry(req, &e))
    }

    /// False: the creator is gone (interrupted); the lookup count is given back, the
    /// caller closes the handle.
    consuming func create(_ e: fuse_entry_param, _ fi: UnsafeMutablePointer<fuse_file_info>) -> Bool {
        var e = e
        let rc = fs.replies.create(req, &e, fi)
        finish(rc)
        return rc == 0
    }

    /// False: the opener is gone (interrupted); the caller closes the handle.
    consuming func open(_ fi: UnsafeMutablePointer<fuse_file_info>) -> Bool {
        let rc = fs.replies.open(req, fi)
        finish(rc)
        return rc == 0
    }

    consuming func attr(_ st: stat, timeout: Double) {
        var st = st
        finish(fs.replies.attr(req, &st, timeout))
    }

    consuming func readlink(_ target: [UInt8]) {
        var t = target
        t.append(0)
        let rc = t.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { fs.replies.readlink(req, $0) }
        }
        finish(rc)
    }

    consuming func buf(_ data: UnsafeRawBufferPointer) { finish(fs.replies.buf(req, data)) }
    consuming func bytes(_ data: some Collection<UInt8>) {
        let rc = data.withContiguousStorageIfAvailable { fs.replies.buf(req, UnsafeRawBufferPointer($0)) }
            ?? Array(data).withUnsafeBytes { fs.replies.buf(req, $0) }
        finish(rc)
    }
    consuming func write(_ count: Int) { finish(fs.replies.write(req, count)) }
    consuming func statfs(_ s: statvfs) {
        var s = s
        finish(fs.replies.statfs(req, &s))
    }
    consuming func xattrSize(_ size: Int) { finish(fs.replies.xattr(req, size)) }
    consuming func lseek(_ off: off_t) { finish(fs.replies.lseek(req, off)) }
    consuming func poll(_ revents: UInt32) { finish(fs.replies.poll(req, revents)) }

    /// The answer comes later from another thread (host fifos): counted in flight until then.
    consuming func later() -> LateReply {
        answered = true
        if armed { Interrupts.disarm() }
        return LateReply(req: req, fs: fs, op: op, started: started)
    }
}

/// A request answered from another thread (FifoOps). The stream channel calls back exactly
/// once per request; a class, since the answer travels through escaping callbacks.
final class LateReply: @unchecked Sendable {
    let req: fuse_req_t?
    let fs: FS
    private let op: FuseOp
    private let started: UInt64
    init(req: fuse_req_t?, fs: FS, op: FuseOp, started: UInt64) {
        self.req = req; self.fs = fs; self.op = op; self.started = started
    }

    var pid: Int32 { fs.replies.context(req).pid }

    func error(_ e: Int32) {
        fs.replies.err(req, e)
        FuseStats.answered(op, errno: e, since: started)
    }
    /// False: the opener is gone (interrupted).
    func open(_ fi: UnsafeMutablePointer<fuse_file_info>) -> Bool {
        defer { FuseStats.answered(op, errno: 0, since: started) }
        return fs.replies.open(req, fi) == 0
    }
    func bytes(_ data: [UInt8]) {
        _ = data.withUnsafeBytes { fs.replies.buf(req, $0) }
        FuseStats.answered(op, errno: 0, since: started)
    }
    func write(_ count: Int) {
        _ = fs.replies.write(req, count)
        FuseStats.answered(op, errno: 0, since: started)
    }
    func poll(_ revents: UInt32) {
        _ = fs.replies.poll(req, revents)
        FuseStats.answered(op, errno: 0, since: started)
    }
}
