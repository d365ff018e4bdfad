// The answer to one FUSE request. An operation gets a `Reply` and must give it up by
// calling exactly one of its consuming methods: the compiler refuses a second answer
// (the value is gone), and a reply dropped without an answer sends EIO from its deinit,
// so a forgotten path fails the call instead of hanging the caller.
// Lookup counts taken while answering (`found`) are given back when the answer is an error
// or does not reach the kernel (an interrupted request): the kernel never heard of them.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

struct FuseReply: ~Copyable {
    let req: fuse_req_t?
    let fs: FS
    /// Nodeids whose lookup count this answer took, one entry per count.
    private var counted: [UInt64] = []
    private var armed = false
    private var answered = false

    /// For a libfuse callback: the mount's state is the session's userdata.
    init(_ req: fuse_req_t?) { self.init(req, fs: FS.of(req)) }
    init(_ req: fuse_req_t?, fs: FS) { self.req = req; self.fs = fs }

    deinit {
        guard !answered else { return }
        // Unreachable by construction of the operations; an answer is still owed.
        for id in counted { fs.nodes.forget(id, 1) }
        noteReply(req, EIO)
        fs.replies.err(req, EIO)
        if armed { Interrupts.disarm() }
    }

    /// Who is asking: uid, gid, pid from the request, plus supplementary groups for non-root.
    var caller: Caller {
        let ctx = fs.replies.context(req)
        var c = Caller(uid: ctx.uid, gid: ctx.gid, pid: UInt32(bitPattern: ctx.pid))
        if ctx.uid != 0, let groups = fs.replies.groups(req) { c.groups = groups }
        return c
    }
    var umask: UInt32 { fs.replies.context(req).umask }
    /// The calling thread's id on the DPU.
    var pid: Int32 { fs.replies.context(req).pid }

    /// A FUSE interrupt for this request ends its waits for the server with EINTR.
    mutating func interruptible() {
        let token = UInt(bitPattern: req)
        fs.replies.onInterrupt(req, onInterrupt, Interrupts.arm(token: token))
        armed = true
    }

    /// Registers a name that the answer hands to the kernel, counting one lookup for it.
    mutating func found(parent: fuse_ino_t, name: [UInt8], attr: Attr) -> UInt64 {
        let id = fs.nodes.found(parent: UInt64(parent), name: name, attr: attr)
        counted.append(id)
        return id
    }

    /// Registers `name` (as `found`) and builds its entry with the mount's cache rules.
    mutating func foundEntry(parent: fuse_ino_t, name: [UInt8], attr: Attr) -> fuse_entry_param {
        fs.entry(found(parent: parent, name: name, attr: attr), attr, parent: parent, name: name)
    }

    /// The last counted name will not be sent after all (readdirplus: it did not fit).
    mutating func takeBackLast() {
        guard let id = counted.popLast() else { return }
        fs.nodes.forget(id, 1)
    }

    private mutating func rollback() {
        for id in counted { fs.nodes.forget(id, 1) }
        counted = []
    }

    /// Bookkeeping after libfuse took (rc 0) or refused the answer.
    private mutating func finish(_ rc: Int32) {
        if rc != 0 { rollback() }
        answered = true
        if armed { Interrupts.disarm() }
    }

    // MARK: answers

    /// An errno, or 0 for success without data. The only way fuse_reply_err is called.
    consuming func error(_ e: Int32) {
        rollback()
        noteReply(req, e)
        fs.replies.err(req, e)
        finish(0)
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

    /// As `ok(after:)` for operations that make a name (`work` returns its attributes):
    /// answered with the name's entry.
    consuming func entry(parent: fuse_ino_t, name: [UInt8], after work: (borrowing FuseReply) throws -> Attr) {
        interruptible()
        do {
            let a = try work(self)
            entry(parent: parent, name: name, a)
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

    /// Registers `name` and answers with its entry, cached by the kernel for the timeouts
    /// but at most `life` seconds (what is left of a snapshot's lifetime).
    consuming func entry(parent: fuse_ino_t, name: [UInt8], _ a: Attr, cacheAtMost life: Double = .infinity) {
        var e = foundEntry(parent: parent, name: name, attr: a)
        e.entry_timeout = min(e.entry_timeout, life)
        e.attr_timeout = min(e.attr_timeout, life)
        entry(e)
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
        LateReplies.expect(req)
        finish(0)
        return LateReply(req: req, fs: fs)
    }
}

private let onInterrupt: fuse_interrupt_func_t = { req, context in
    if let context { Interrupts.fire(context, token: UInt(bitPattern: req)) }
}

/// A request answered from another thread (FifoOps). The stream channel calls back exactly
/// once per request; a class, since the answer travels through escaping callbacks.
final class LateReply: @unchecked Sendable {
    let req: fuse_req_t?
    let fs: FS
    init(req: fuse_req_t?, fs: FS) { self.req = req; self.fs = fs }

    var pid: Int32 { fs.replies.context(req).pid }

    func error(_ e: Int32) {
        noteReply(req, e)
        fs.replies.err(req, e)
    }
    /// False: the opener is gone (interrupted).
    func open(_ fi: UnsafeMutablePointer<fuse_file_info>) -> Bool {
        noteReply(req, 0)
        return fs.replies.open(req, fi) == 0
    }
    func bytes(_ data: [UInt8]) {
        noteReply(req, 0)
        _ = data.withUnsafeBytes { fs.replies.buf(req, $0) }
    }
    func write(_ count: Int) {
        noteReply(req, 0)
        _ = fs.replies.write(req, count)
    }
    func poll(_ revents: UInt32) {
        noteReply(req, 0)
        _ = fs.replies.poll(req, revents)
    }
}
