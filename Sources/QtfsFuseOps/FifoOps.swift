// Host fifos through FUSE (docs/client.md, "Fifos"). The kernel would serve a FUSE node of
// type fifo with its own local pipe code, so host fifos are shown as regular files and
// every open, read and write goes to the server on the StreamChannel, answered
// asynchronously: a blocked fifo never holds a FUSE thread. A signal to the blocked
// process arrives as a FUSE INTERRUPT, which becomes a CANCEL.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

/// An open host fifo: its handle lives on the stream channel.
final class FifoFile: OpenFile, @unchecked Sendable {
    let channel: StreamChannel
    let handle: UInt64
    private let lock = Lock()
    private var pollHandle: OpaquePointer?   // the latest fuse_pollhandle, protected by lock

    init(channel: StreamChannel, handle: UInt64) {
        self.channel = channel; self.handle = handle
        super.init(streamHandle: ())
    }

    /// Keeps the kernel's newest poll handle (one notification wakes every waiter).
    func setPollHandle(_ ph: OpaquePointer?) {
        guard let ph else { return }
        let old = lock.withLock { () -> OpaquePointer? in defer { pollHandle = ph }; return pollHandle }
        if let old { fuse_pollhandle_destroy(old) }
    }

    func notifyPoll() { lock.withLock { if let ph = pollHandle { _ = fuse_lowlevel_notify_poll(ph) } } }

    /// A read may have drained the fifo (a write found it full): the server watches only
    /// events that are not ready, so the next data (or room) must be asked for again, as an
    /// edge-triggered poller waits for it; if it is there already, the kernel's pollers are
    /// woken at once. Only while the kernel polls this file.
    func rearmPoll(_ events: Int32) {
        guard lock.withLock({ pollHandle != nil }) else { return }
        let r = PollRequest(handle: handle, events: UInt32(events), notify: true)
        channel.start(id: StreamChannel.reserveId(), .poll, tail: nil, { r.encode(into: &$0) }) { [self] reply in
            if let p = try? reply.decode(PollReply.self), p.revents & UInt32(events) != 0 { notifyPoll() }
        }
    }

    func dropPollHandle() {
        let old = lock.withLock { () -> OpaquePointer? in defer { pollHandle = nil }; return pollHandle }
        if let old { fuse_pollhandle_destroy(old) }
    }
}

enum FifoOps {
    static let fifoType: UInt32 = 0o010000

    static func isFifo(_ fs: FS, _ ino: fuse_ino_t) -> Bool {
        fs.opts.remoteFifos && fs.nodes.identity(UInt64(ino))?.type == fifoType
    }

    /// The kernel refuses (EIO) a MKNOD answer whose type is not the one asked for: the new
    /// fifo is answered as a fifo, uncached, so the next lookup replaces that inode with the
    /// regular-file view every other lookup gives.
    static func replyMknod(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: [UInt8], _ a: Attr) {
        var e = r.foundEntry(parent: parent, name: name, attr: a)
        e.attr.st_mode = a.mode
        e.attr_timeout = 0
        e.entry_timeout = 0
        r.entry(e)
    }

    /// Runs `op` on the stream channel with the request interruptible; `done` gets the answer
    /// and the reply to send.
    private static func call(_ r: consuming FuseReply, _ op: Opcode, tail: UnsafeRawBufferPointer? = nil,
                             _ body: (inout WireWriter) -> Void, done: @escaping (Reply, LateReply) -> Void) {
        callNoting(r, op, tail: tail, body) { reply, late, _ in done(reply, late) }
    }

    /// As `call`; `done` also learns whether the request was interrupted meanwhile.
    private static func callNoting(_ r: consuming FuseReply, _ op: Opcode, tail: UnsafeRawBufferPointer? = nil,
                                   _ body: (inout WireWriter) -> Void, done: @escaping (Reply, LateReply, Bool) -> Void) {
        guard let ch = r.fs.streamChannel() else { return r.error(EIO) }
        start(r.later(), ch, op, tail: tail, body, done: done)
    }

    /// Sends one request of an answer already owed from this or another thread.
    private static func start(_ late: LateReply, _ ch: StreamChannel, _ op: Opcode, tail: UnsafeRawBufferPointer?,
                              _ body: (inout WireWriter) -> Void, done: @escaping (Reply, LateReply, Bool) -> Void) {
        let id = StreamChannel.reserveId()
        // Before sending: an interrupt that comes first is remembered by the channel.
        late.fs.replies.onInterrupt(late.req, { req, data in
            FS.of(req).currentStreamChannel()?.cancel(UInt64(UInt(bitPattern: data)))
        }, UnsafeMutableRawPointer(bitPattern: UInt(id)))
        ch.start(id: id, op, tail: tail, body) { reply in done(reply, late, ch.wasCancelled(id)) }
    }

    static func open(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>) {
        let fs = r.fs
        let path: [UInt8]
        do { path = try fs.path(ino) } catch { return r.fail(error) }
        var info = fi.pointee   // fi lives in libfuse's stack frame: the answer comes later
        let o = OpenRequest(caller: r.caller, target: fs.session.target(path), flags: UInt32(bitPattern: info.flags))
        call(r, .open, { o.encode(into: &$0) }) { reply, late in
            guard let ch = fs.currentStreamChannel(), let o = try? reply.decode(OpenReply.self) else {
                return late.error(reply.status != 0 ? reply.status : EIO)
            }
            info.direct_io = 1
            info.nonseekable = 1
            info.keep_cache = 0
            let f = FifoFile(channel: ch, handle: o.handle)
            f.attach(&info)
            fs.fifos.add(f)
            if !late.open(&info) {   // the opener is gone (interrupted)
                fs.fifos.remove(f)
                _ = OpenFile.detach(&info)
                ch.post(.release) { HandleRequest(handle: o.handle).encode(into: &$0) }
            }
        }
    }

    static func read(_ r: consuming FuseReply, _ f: FifoFile, _ size: Int, _ flags: Int32) {
        let nowait = flags & O_NONBLOCK != 0
        let q = ReadRequest(handle: f.handle, offset: nowait ? StreamOffset.noWait : 0, size: UInt32(min(size, Wire.maxIOSize)))
        call(r, .read, { q.encode(into: &$0) }) { reply, late in
            if reply.status == 0 || reply.status == EAGAIN { f.rearmPoll(POLLIN) }   // it may be drained now
            guard reply.status == 0 else { return late.error(reply.status) }
            late.bytes(reply.payload)
        }
    }

    /// Writes all of `data` (a blocking write to a pipe is never short), or as much as fits
    /// with O_NONBLOCK. EPIPE also sends SIGPIPE to the writer, as the local pipe code does.
    static func write(_ r: consuming FuseReply, _ f: FifoFile, _ data: [UInt8], _ flags: Int32) {
        let nowait = flags & O_NONBLOCK != 0
        let pid = r.pid
        func step(_ late: LateReply, _ done: Int) {
            guard let ch = late.fs.streamChannel() else { return late.error(EIO) }
            data[done...].withUnsafeBytes { chunk in start(late, ch, .write, tail: chunk, { w in
                w.u64(f.handle); w.u64(nowait ? StreamOffset.noWait : 0)
            }) { reply, late, interrupted in
                if reply.status == EAGAIN { f.rearmPoll(POLLOUT) }
                if reply.status != 0 {
                    if done > 0 { return late.write(done) }
                    if reply.status == EPIPE { kill(pid, SIGPIPE) }
                    return late.error(reply.status)
                }
                let n = done + Int((try? reply.decode(WriteReply.self).written) ?? 0)
                if nowait && n < data.count { f.rearmPoll(POLLOUT) }   // a short write: full
                if n >= data.count || nowait || interrupted || n == done { late.write(n) } else { step(late, n) }
            } }
        }
        step(r.later(), 0)
    }
    static func release(_ fs: FS, _ f: FifoFile) {
        fs.fifos.remove(f)
        f.dropPollHandle()
        f.channel.post(.release) { HandleRequest(handle: f.handle).encode(into: &$0) }
    }

    /// poll(2), select(2), epoll: the ready mask from the host; with a poll handle the
    /// server arms a watch and its POLL_READY event wakes the waiters here.
    static func poll(_ r: consuming FuseReply, _ fi: UnsafeMutablePointer<fuse_file_info>?, _ ph: OpaquePointer?) {
        guard let fi, let f = OpenFile.from(fi) as? FifoFile else {
            if let ph { fuse_pollhandle_destroy(ph) }
            return r.poll(UInt32(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM))
        }
        f.setPollHandle(ph)
        let events = fi.pointee.poll_events != 0 ? fi.pointee.poll_events : UInt32(POLLIN | POLLOUT)
        let q = PollRequest(handle: f.handle, events: events, notify: ph != nil)
        call(r, .poll, { q.encode(into: &$0) }) { reply, late in
            guard let p = try? reply.decode(PollReply.self) else { return late.error(reply.status != 0 ? reply.status : EIO) }
            late.poll(p.revents)
        }
    }
}
