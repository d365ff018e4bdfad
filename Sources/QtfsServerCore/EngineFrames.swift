// The engine's own request handlers for the handle table (FLUSH, RELEASE, RELEASEDIR) and
// data (READ and WRITE as io_uring ops); Routes.swift says which runs when.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol

extension Engine {
    /// READ/WRITE of tmpfs files up to this size are copied on the loop (OpenHandle.memoryBacked).
    static let inlineMemoryIO = 128 * 1024
    func reply<P: WirePayload>(_ c: Connection, _ h: FrameHeader, _ op: Opcode, _ p: P) {
        io.send(c, OutBuffer(copying: FrameHeader.frame(kind: .response, opcode: op, id: h.id, payload: p)))
    }

    func fail(_ c: Connection, _ h: FrameHeader, _ errno: Int32) {
        io.send(c, OutBuffer(copying: FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: errno)))
    }

    /// FLUSH, RELEASE, RELEASEDIR: table look-ups, answered at once; on a connection that
    /// asked for it (`quietRelease`), RELEASE and RELEASEDIR are not answered at all.
    func handleOp(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let quiet = c.quietRelease && h.opcode != Opcode.flush.rawValue
        let status: Int32
        do {
            let req = try HandleRequest.decode(payload)
            let known = h.opcode == Opcode.flush.rawValue ? c.handles.get(req.handle) : c.handles.remove(req.handle)
            // A release drops the table's reference; the fd closes when no op holds it.
            // An armed poll holds one until it fires, which may be never (POLLIN on a
            // fifo's write end): cancelled, or the host reader would never see EOF.
            if known != nil && h.opcode == Opcode.release.rawValue { fifos.cancelPolls(of: c, handle: req.handle) }
            status = known == nil ? EBADF : 0
        } catch let e as WireError {
            status = e.errno
        } catch {
            status = EIO
        }
        if quiet { return answeredQuietly(c, h, status) }
        guard status == 0 else { return fail(c, h, status) }
        var w = WireWriter(capacity: Wire.headerSize)
        FrameHeader(kind: .response, opcode: h.opcode, id: h.id, length: 0).encode(into: &w)
        let answer = OutBuffer(copying: w.bytes)
        answer.lazy = h.opcode != Opcode.flush.rawValue
        io.send(c, answer)
    }

    func startRead(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let req = decodeOrFail(c, h, { try ReadRequest.decode(payload) }) else { return }
        guard let handle = c.handles.get(req.handle) else { return fail(c, h, EBADF) }
        if handle.isDirectory { return fail(c, h, EISDIR) }
        if handle.isFifo { return fifos.read(c, h, handle, Int(req.size), noWait: req.offset & StreamOffset.noWait != 0) }
        if !handle.nonSeekable && req.offset > UInt64(Int64.max) { return fail(c, h, EINVAL) }
        let size = Int(req.size)
        if splicer.answerRead(c, h.id, handle, offset: req.offset, size: size, sealed: gatekeeper.sendsSealed(c)) { return }
        let buffer = OutBuffer(readAnswer: size)
        let off = handle.nonSeekable ? UInt64.max : req.offset
        if handle.memoryBacked && size <= Engine.inlineMemoryIO {
            let n = pread(handle.fd, buffer.base + Wire.headerSize, size, off_t(Int64(bitPattern: off)))
            return answerRead(c, h.id, buffer, n >= 0 ? Int32(n) : -errno)
        }
        let op = ReadOp(id: h.id, handle: handle, buffer: buffer)
        // Data lands right after the header: the answer is this one buffer, sent as is.
        guard submit(.read(c, op), { qtfs_uring_read(ring, handle.fd, buffer.base + Wire.headerSize, UInt32(size), off, $0) }) else {
            return fail(c, h, EAGAIN)
        }
        c.inFlight += 1
        c.ioBytes += buffer.count
    }

    func readDone(_ c: Connection, _ op: ReadOp, _ res: Int32) {
        c.inFlight -= 1
        c.ioBytes -= op.buffer.count
        defer { io.pump(c) }
        answerRead(c, op.id, op.buffer, res)
    }

    /// `res`: bytes read into `b` after its header, or -errno.
    private func answerRead(_ c: Connection, _ id: UInt64, _ b: OutBuffer, _ res: Int32) {
        guard res >= 0 else { return fail(c, FrameHeader(kind: .request, opcode: Opcode.read.rawValue, id: id, length: 0), Engine.cancelledAsEINTR(res)) }
        b.count = Wire.headerSize + Int(res)
        Engine.storeHeader(b.base, opcode: Opcode.read.rawValue, id: id, length: UInt32(res))
        io.send(c, b)
    }

    func startWrite(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        var r = WireReader(payload)
        guard let id = try? r.u64("handle"), let offset = try? r.u64("offset") else { return fail(c, h, EPROTO) }
        let data = r.rest()
        guard data.count <= Wire.maxIOSize else { return fail(c, h, EINVAL) }
        guard let handle = c.handles.get(id) else { return fail(c, h, EBADF) }
        if handle.isDirectory { return fail(c, h, EISDIR) }
        if handle.isFifo { return fifos.write(c, h, handle, data, noWait: offset & StreamOffset.noWait != 0) }
        if !handle.nonSeekable && offset > UInt64(Int64.max) { return fail(c, h, EINVAL) }
        if handle.memoryBacked && data.count <= Engine.inlineMemoryIO {
            let n = pwrite(handle.fd, data.baseAddress, data.count, off_t(Int64(bitPattern: offset)))
            let res = n >= 0 ? Int32(n) : -errno
            if res > 0 { Backend.dropSetIdAfterWrite(handle) }
            return answerWrite(c, h.id, res)
        }
        let (keep, ptr) = io.stableCopy(c, data)
        let off = handle.nonSeekable ? UInt64.max : offset
        let op = WriteOp(id: h.id, handle: handle, keep: keep, bytes: data.count)
        // One io_uring write = one write(2) of the whole data (control files need that).
        guard submit(.write(c, op), { qtfs_uring_write(ring, handle.fd, ptr, UInt32(data.count), off, $0) }) else {
            return fail(c, h, EAGAIN)
        }
        c.inFlight += 1
        c.ioBytes += data.count
    }

    func writeDone(_ c: Connection, _ op: WriteOp, _ res: Int32) {
        c.inFlight -= 1
        c.ioBytes -= op.bytes
        defer { io.pump(c) }
        if res > 0 { Backend.dropSetIdAfterWrite(op.handle) }
        answerWrite(c, op.id, res)
    }

    private func answerWrite(_ c: Connection, _ id: UInt64, _ res: Int32) {
        let h = FrameHeader(kind: .request, opcode: Opcode.write.rawValue, id: id, length: 0)
        guard res >= 0 else { return fail(c, h, Engine.cancelledAsEINTR(res)) }
        reply(c, h, .write, WriteReply(written: UInt32(res)))
    }

    private func decodeOrFail<T>(_ c: Connection, _ h: FrameHeader, _ body: () throws -> T) -> T? {
        do { return try body() } catch let e as WireError { fail(c, h, e.errno) } catch { fail(c, h, EPROTO) }
        return nil
    }

    /// Writes a success response header in place (READ answers are built around their data).
    static func storeHeader(_ p: UnsafeMutableRawPointer, opcode: UInt16, id: UInt64, length: UInt32) {
        FrameHeader(kind: .response, opcode: opcode, id: id, length: length).store(into: p)
    }

    /// A READ or WRITE cancelled by CANCEL (or a closing connection) was interrupted.
    static func cancelledAsEINTR(_ res: Int32) -> Int32 { res == -ECANCELED ? EINTR : -res }
}
