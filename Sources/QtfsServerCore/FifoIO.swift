// The fifo part, READ and WRITE on fifo handles (O_NONBLOCK fds): tried at once on the
// loop; a blocking one that cannot proceed arms a one-shot io_uring poll and tries again
// when it fires. The waiting READ or WRITE is held by its ring op (`Engine.Op.fifoIO`).
// (io_uring reads of a fifo would otherwise park an io-wq thread each: fifos opened by
// path do not support non-blocking attempts inside the ring.)
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import QtfsProtocol
import QtfsSystem

/// A fifo READ or WRITE waiting for readiness.
final class FifoIO {
    let id: UInt64
    let handle: OpenHandle
    let isRead: Bool
    let data: [UInt8]   // WRITE: all the data; READ: empty
    let size: Int       // READ: at most this many bytes
    var written = 0
    init(id: UInt64, handle: OpenHandle, isRead: Bool, data: [UInt8], size: Int) {
        self.id = id; self.handle = handle; self.isRead = isRead; self.data = data; self.size = size
    }
}

extension Fifos {
    func read(_ c: Connection, _ h: FrameHeader, _ handle: OpenHandle, _ size: Int, noWait: Bool) {
        let io = FifoIO(id: h.id, handle: handle, isRead: true, data: [], size: min(size, Wire.maxIOSize))
        c.inFlight += 1
        attempt(c, io, noWait: noWait)
    }

    func write(_ c: Connection, _ h: FrameHeader, _ handle: OpenHandle, _ data: UnsafeRawBufferPointer, noWait: Bool) {
        let io = FifoIO(id: h.id, handle: handle, isRead: false, data: Array(data), size: 0)
        c.inFlight += 1
        attempt(c, io, noWait: noWait)
    }

    /// The readiness poll of `io` fired (or was cancelled).
    func ready(_ c: Connection, _ io: FifoIO, _ res: Int32) {
        // Cancelled after part of a WRITE went out: that part is the answer (as write(2)
        // interrupted after writing some bytes returns their count).
        if res < 0 { return finishIO(c, io, errno: io.written > 0 ? 0 : Engine.cancelledAsEINTR(res)) }
        attempt(c, io, noWait: false)
    }

    /// One non-blocking try; waits for readiness (unless `noWait`) while it would block.
    private func attempt(_ c: Connection, _ io: FifoIO, noWait: Bool) {
        if c.closing { return finishIO(c, io, errno: io.written > 0 ? 0 : EINTR) }
        if io.isRead { return attemptRead(c, io, noWait: noWait) }
        while io.written < io.data.count {
            let n: Int
            do { n = try sys("write") { io.data.withUnsafeBytes { Glibc.write(io.handle.fd, $0.baseAddress! + io.written, io.data.count - io.written) } } } catch {
                n = -Int((error as? Errno)?.code ?? EIO)
            }
            if n > 0 { io.written += n; continue }
            let e = n < 0 ? Int32(-n) : EAGAIN
            if e != EAGAIN { return finishIO(c, io, errno: io.written > 0 ? 0 : e) }
            if noWait { return finishIO(c, io, errno: io.written > 0 ? 0 : EAGAIN) }
            return waitReady(c, io, UInt32(POLLOUT))
        }
        finishIO(c, io, errno: 0)
    }

    private func attemptRead(_ c: Connection, _ io: FifoIO, noWait: Bool) {
        let b = OutBuffer(copying: [UInt8](repeating: 0, count: Wire.headerSize + io.size))
        let n = Glibc.read(io.handle.fd, b.base + Wire.headerSize, io.size)
        if n < 0 && errno == EAGAIN && !noWait { return waitReady(c, io, UInt32(POLLIN)) }
        if n < 0 { return finishIO(c, io, errno: errno) }
        c.inFlight -= 1
        b.count = Wire.headerSize + n
        Engine.storeHeader(b.base, opcode: Opcode.read.rawValue, id: io.id, length: UInt32(n))
        engine.io.send(c, b)
        engine.io.pump(c)
    }

    private func waitReady(_ c: Connection, _ io: FifoIO, _ events: UInt32) {
        if !engine.submit(.fifoIO(c, io), { qtfs_uring_poll_add(engine.ring, io.handle.fd, events, $0) }) {
            finishIO(c, io, errno: EAGAIN)
        }
    }

    /// Answers a WRITE (bytes written) or a failed READ/WRITE.
    private func finishIO(_ c: Connection, _ io: FifoIO, errno e: Int32) {
        c.inFlight -= 1
        let h = FrameHeader(kind: .request, opcode: io.isRead ? Opcode.read.rawValue : Opcode.write.rawValue, id: io.id, length: 0)
        if e != 0 { engine.fail(c, h, e) } else { engine.reply(c, h, .write, WriteReply(written: UInt32(io.written))) }
        engine.io.pump(c)
    }
}
