// CANCEL and POLL (docs/protocol.md, "Streams: cancel and poll"), and what a closing
// connection leaves waiting on streams.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol

extension Engine {
    /// CANCEL: a waiting fifo open is dropped and answered EINTR; a waiting READ or WRITE
    /// is cancelled in the ring (its completion answers EINTR).
    func cancelRequest(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let req = try? CancelRequest.decode(payload) else { return fail(c, h, EPROTO) }
        if let w = streams.waits.first(where: { $0.conn === c && $0.id == req.target }) {
            drop(w)
            fail(c, FrameHeader(kind: .request, opcode: Opcode.open.rawValue, id: w.id, length: 0), EINTR)
            logger.debug("fifo open cancelled", metadata: ["conn.id": "\(c.id)", "req.id": "\(w.id)"])
            return replyEmpty(c, h)
        }
        if let slot = ioSlot(c, req.target) {
            _ = submit(.cancel) { qtfs_uring_cancel(ring, UInt64(slot) + 1, $0) }
            return replyEmpty(c, h)
        }
        fail(c, h, ENOENT)
    }

    /// The slot of a READ or WRITE of `c` with request id `id` still in the ring.
    private func ioSlot(_ c: Connection, _ id: UInt64) -> Int? {
        ops.firstIndex { op in
            switch op {
            case .read(let oc, let r)?: return oc === c && r.id == id
            case .write(let oc, let w)?: return oc === c && w.id == id
            case .fifoIO(let oc, let io)?: return oc === c && io.id == id
            default: return false
            }
        }
    }

    /// The connection is closing: fifo opens it waits for are dropped, its reads and writes
    /// on streams (which may wait forever) and its armed polls are cancelled.
    func cancelStreams(of c: Connection) {
        for w in streams.waits where w.conn === c { drop(w) }
        closeListeners(of: c)
        for (slot, op) in ops.enumerated() {
            let mine: Bool
            switch op {
            case .read(let oc, let r)?: mine = oc === c && r.handle.nonSeekable
            case .write(let oc, let w)?: mine = oc === c && w.handle.nonSeekable
            case .poll(let oc, _)?: mine = oc === c
            case .fifoIO(let oc, _)?: mine = oc === c
            case .sockAccept(let oc, _)?: mine = oc === c
            default: mine = false
            }
            if mine { _ = submit(.cancel) { qtfs_uring_cancel(ring, UInt64(slot) + 1, $0) } }
        }
    }

    /// RELEASE of a handle: its armed polls are cancelled (each holds the handle's fd).
    func cancelPolls(of c: Connection, handle: UInt64) {
        // Every RELEASE comes here: the (small) set of armed polls spares the scan of all ops.
        guard streams.armedPolls.contains(where: { $0.conn == c.id && $0.handle == handle }) else { return }
        for (slot, op) in ops.enumerated() {
            guard case .poll(let oc, let w)? = op, oc === c, w.handleId == handle else { continue }
            _ = submit(.cancel) { qtfs_uring_cancel(ring, UInt64(slot) + 1, $0) }
        }
    }

    /// POLL: the mask now; with `notify`, a one-shot io_uring poll, on the asked events not
    /// ready now, that sends POLL_READY.
    func startPoll(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let req: PollRequest
        do { req = try PollRequest.decode(payload) } catch { return fail(c, h, (error as? WireError)?.errno ?? EPROTO) }
        guard let handle = c.handles.get(req.handle) else { return fail(c, h, EBADF) }
        let events = Int16(truncatingIfNeeded: req.events)
        var pfd = pollfd(fd: handle.fd, events: events, revents: 0)
        _ = poll(&pfd, 1, 0)
        // Only what is not ready yet is watched: a watch on a ready event would fire at once,
        // the client would wake its kernel, which polls again: a loop (a fifo open for
        // writing is always writable). The client asks again once it drains an event (EAGAIN).
        // (POLLERR and POLLHUP are reported by every poll unasked: never a reason to watch.)
        let notReady = events & ~pfd.revents & ~Int16(POLLERR | POLLHUP | POLLNVAL)
        let settled = pfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
        let key = StreamState.PollKey(conn: c.id, handle: req.handle, events: notReady)
        if req.notify && notReady != 0 && !settled && !streams.armedPolls.contains(key) {
            let watch = PollWatch(handleId: req.handle, handle: handle, events: notReady)
            if submit(.poll(c, watch), { qtfs_uring_poll_add(ring, handle.fd, UInt32(UInt16(bitPattern: notReady)), $0) }) {
                streams.armedPolls.insert(key)
            }
        }
        reply(c, h, .poll, PollReply(revents: UInt32(UInt16(bitPattern: pfd.revents))))
    }

    func pollFired(_ c: Connection, _ w: PollWatch, _ res: Int32) {
        streams.armedPolls.remove(StreamState.PollKey(conn: c.id, handle: w.handleId, events: w.events))
        guard res >= 0, !c.closing else { return }
        let event = PollReadyEvent(handle: w.handleId, revents: UInt32(res))
        send(c, OutBuffer(copying: FrameHeader.frame(kind: .event, opcode: .pollReady, id: 0, payload: event)))
    }

    private func replyEmpty(_ c: Connection, _ h: FrameHeader) {
        send(c, OutBuffer(copying: FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: 0)))
    }
}
