// The fifo part, CANCEL and POLL (docs/protocol.md, "Streams: cancel and poll"): a waiting
// fifo open is dropped, a waiting READ or WRITE cancelled in the ring; a POLL answers the
// mask now and may arm a one-shot io_uring poll that sends POLL_READY (`armedPolls`).
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol

/// An armed POLL: one per handle and mask at a time.
struct PollWatch {
    let handleId: UInt64
    let handle: OpenHandle
    let events: Int16   // what it waits for
}

extension Fifos {
    /// CANCEL: a waiting fifo open is dropped and answered EINTR; a waiting READ or WRITE
    /// is cancelled in the ring (its completion answers EINTR).
    func cancel(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let req = try? CancelRequest.decode(payload) else { return engine.fail(c, h, EPROTO) }
        if cancelWait(c, id: req.target) { return replyEmpty(c, h) }
        if engine.cancelIO(of: c, request: req.target) { return replyEmpty(c, h) }
        engine.fail(c, h, ENOENT)
    }

    /// RELEASE of a handle: its armed polls are cancelled (each holds the handle's fd).
    func cancelPolls(of c: Connection, handle: UInt64) {
        // Every RELEASE comes here: the (small) set of armed polls spares the scan of all ops.
        guard armedPolls.contains(where: { $0.conn == c.id && $0.handle == handle }) else { return }
        engine.cancelInRing { op in
            guard case .poll(let oc, let w) = op else { return false }
            return oc === c && w.handleId == handle
        }
    }

    /// POLL: the mask now; with `notify`, a one-shot io_uring poll, on the asked events not
    /// ready now, that sends POLL_READY.
    func poll(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let req: PollRequest
        do { req = try PollRequest.decode(payload) } catch { return engine.fail(c, h, (error as? WireError)?.errno ?? EPROTO) }
        guard let handle = c.handles.get(req.handle) else { return engine.fail(c, h, EBADF) }
        let events = Int16(truncatingIfNeeded: req.events)
        var pfd = pollfd(fd: handle.fd, events: events, revents: 0)
        _ = Glibc.poll(&pfd, 1, 0)
        // Only what is not ready yet is watched: a watch on a ready event would fire at once,
        // the client would wake its kernel, which polls again: a loop (a fifo open for
        // writing is always writable). The client asks again once it drains an event (EAGAIN).
        // (POLLERR and POLLHUP are reported by every poll unasked: never a reason to watch.)
        let notReady = events & ~pfd.revents & ~Int16(POLLERR | POLLHUP | POLLNVAL)
        let settled = pfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
        if req.notify && notReady != 0 && !settled {
            arm(c, PollWatch(handleId: req.handle, handle: handle, events: notReady))
        }
        engine.reply(c, h, .poll, PollReply(revents: UInt32(UInt16(bitPattern: pfd.revents))))
    }

    /// Arms `watch` unless the same watch is armed already.
    private func arm(_ c: Connection, _ watch: PollWatch) {
        let key = PollKey(conn: c.id, handle: watch.handleId, events: watch.events)
        guard !armedPolls.contains(key) else { return }
        let mask = UInt32(UInt16(bitPattern: watch.events))
        if engine.submit(.poll(c, watch), { qtfs_uring_poll_add(engine.ring, watch.handle.fd, mask, $0) }) {
            armedPolls.insert(key)
        }
    }

    /// An armed poll fired (or was cancelled): POLL_READY to the client.
    func pollFired(_ c: Connection, _ w: PollWatch, _ res: Int32) {
        armedPolls.remove(PollKey(conn: c.id, handle: w.handleId, events: w.events))
        guard res >= 0, !c.closing else { return }
        let event = PollReadyEvent(handle: w.handleId, revents: UInt32(res))
        engine.io.send(c, OutBuffer(copying: FrameHeader.frame(kind: .event, opcode: .pollReady, id: 0, payload: event)))
    }

    private func replyEmpty(_ c: Connection, _ h: FrameHeader) {
        engine.io.send(c, OutBuffer(copying: FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: 0)))
    }
}
