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

    static func shownAsFile(_ fs: FS, _ a: Attr) -> Bool { fs.opts.remoteFifos && a.mode & 0o170000 == fifoType }

    /// The kernel refuses (EIO) a MKNOD answer whose type is not the one asked for: the new
    /// fifo is answered as a fifo, uncached, so the next lookup replaces that inode with the
    /// regular-file view every other lookup gives.
    static func replyMknod(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: [UInt8], _ a: Attr) {
        let fs = FS.shared!
        var e = fs.entry(fs.nodes.found(parent: UInt64(parent), name: name, attr: a), a)
        e.attr.st_mode = a.mode
        e.attr_timeout = 0
        e.entry_timeout = 0
        if fuse_reply_entry(req, &e) != 0 { fs.nodes.forget(UInt64(e.ino), 1) }
    }

    /// Runs `op` on the stream channel with `req` interruptible; `done` gets the answer.
    private static func call(_ req: fuse_req_t?, _ op: Opcode, tail: UnsafeRawBufferPointer? = nil,
                             _ body: (inout WireWriter) -> Void, done: @escaping (Reply) -> Void) {
        callNoting(req, op, tail: tail, body) { reply, _ in done(reply) }
    }

    /// As `call`; `done` also learns whether the request was interrupted meanwhile.
    private static func callNoting(_ req: fuse_req_t?, _ op: Opcode, tail: UnsafeRawBufferPointer? = nil,
                                   _ body: (inout WireWriter) -> Void, done: @escaping (Reply, Bool) -> Void) {
        guard let ch = FS.shared.streamChannel() else { replyErr(req, EIO); return }
        let id = StreamChannel.reserveId()
        // Before sending: an interrupt that comes first is remembered by the channel.
        fuse_req_interrupt_func(req, { _, data in
            FS.shared.currentStreamChannel()?.cancel(UInt64(UInt(bitPattern: data)))
        }, UnsafeMutableRawPointer(bitPattern: UInt(id)))
        LateReplies.expect(req)   // answered from the channel's thread
        ch.start(id: id, op, tail: tail, body) { reply in done(reply, ch.wasCancelled(id)) }
    }

    static func open(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>) {
        let fs = FS.shared!
        let path: [UInt8]
        do { path = try fs.path(ino) } catch { replyErr(req, (error as? FSError)?.errno ?? EIO); return }
        var info = fi.pointee   // fi lives in libfuse's stack frame: the answer comes later
        let r = OpenRequest(caller: caller(req), target: fs.session.target(path), flags: UInt32(bitPattern: info.flags))
        call(req, .open, { r.encode(into: &$0) }) { reply in
            guard let ch = fs.currentStreamChannel(), let o = try? reply.decode(OpenReply.self) else {
                replyErr(req, reply.status != 0 ? reply.status : EIO); return
            }
            info.direct_io = 1
            info.nonseekable = 1
            info.keep_cache = 0
            let f = FifoFile(channel: ch, handle: o.handle)
            f.attach(&info)
            FifoRegistry.shared.add(f)
            noteReply(req, 0)
            if fuse_reply_open(req, &info) != 0 {   // the opener is gone (interrupted)
                FifoRegistry.shared.remove(f)
                _ = OpenFile.detach(&info)
                ch.post(.release) { HandleRequest(handle: o.handle).encode(into: &$0) }
            }
        }
    }

    static func read(_ req: fuse_req_t?, _ f: FifoFile, _ size: Int, _ flags: Int32) {
        let nowait = flags & O_NONBLOCK != 0
        let r = ReadRequest(handle: f.handle, offset: nowait ? StreamOffset.noWait : 0, size: UInt32(min(size, Wire.maxIOSize)))
        call(req, .read, { r.encode(into: &$0) }) { reply in
            if reply.status == 0 || reply.status == EAGAIN { f.rearmPoll(POLLIN) }   // it may be drained now
            guard reply.status == 0 else { replyErr(req, reply.status); return }
            noteReply(req, 0)
            reply.payload.withUnsafeBytes { _ = fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }

    /// Writes all of `data` (a blocking write to a pipe is never short), or as much as fits
    /// with O_NONBLOCK. EPIPE also sends SIGPIPE to the writer, as the local pipe code does.
    static func write(_ req: fuse_req_t?, _ f: FifoFile, _ data: [UInt8], _ flags: Int32) {
        let nowait = flags & O_NONBLOCK != 0
        let pid = fuse_req_ctx(req)!.pointee.pid
        func step(_ done: Int) {
            data[done...].withUnsafeBytes { chunk in callNoting(req, .write, tail: chunk, { w in
                w.u64(f.handle); w.u64(nowait ? StreamOffset.noWait : 0)
            }) { reply, interrupted in
                if reply.status == EAGAIN { f.rearmPoll(POLLOUT) }
                if reply.status != 0 {
                    if done > 0 { noteReply(req, 0); fuse_reply_write(req, done); return }
                    if reply.status == EPIPE { kill(pid, SIGPIPE) }
                    replyErr(req, reply.status); return
                }
                let n = done + Int((try? reply.decode(WriteReply.self).written) ?? 0)
                if nowait && n < data.count { f.rearmPoll(POLLOUT) }   // a short write: full
                if n >= data.count || nowait || interrupted || n == done { noteReply(req, 0); fuse_reply_write(req, n) } else { step(n) }
            } }
        }
        step(0)
    }

    static func release(_ f: FifoFile) {
        FifoRegistry.shared.remove(f)
        f.dropPollHandle()
        f.channel.post(.release) { HandleRequest(handle: f.handle).encode(into: &$0) }
    }

    /// poll(2), select(2), epoll: the ready mask from the host; with a poll handle the
    /// server arms a watch and its POLL_READY event wakes the waiters here.
    static func poll(_ req: fuse_req_t?, _ fi: UnsafeMutablePointer<fuse_file_info>?, _ ph: OpaquePointer?) {
        guard let fi, let f = OpenFile.from(fi) as? FifoFile else {
            if let ph { fuse_pollhandle_destroy(ph) }
            fuse_reply_poll(req, UInt32(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM))
            return
        }
        f.setPollHandle(ph)
        let events = fi.pointee.poll_events != 0 ? fi.pointee.poll_events : UInt32(POLLIN | POLLOUT)
        let r = PollRequest(handle: f.handle, events: events, notify: ph != nil)
        call(req, .poll, { r.encode(into: &$0) }) { reply in
            guard let p = try? reply.decode(PollReply.self) else { replyErr(req, reply.status != 0 ? reply.status : EIO); return }
            noteReply(req, 0)
            fuse_reply_poll(req, p.revents)
        }
    }
}
