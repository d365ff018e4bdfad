// The splice part of the engine: large READs of tmpfs files answered without copying the
// data through this process. It owns each connection's pipe (made on its first spliced
// READ, closed with the connection's socket) and moves each job's pages: the answer's
// header goes out as a normal send, then the file's pages are spliced into the pipe on the
// loop and an io_uring splice moves them from the pipe into the socket. A copy into a
// buffer and a copy from it into the socket are saved. Only tmpfs (memory-backed) files,
// where moving pages into the pipe never waits for a device.
//
// The header promises a length, taken from the file's size when the READ arrives. A file
// that shrinks before its pages are spliced cannot deliver it: the connection is closed
// with a log line, and the client sends the READ again on a new connection (docs/client.md,
// "Faults"), which then sees the new size.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol

/// One spliced READ answer: `left` bytes still to move from the file at `offset`, and
/// `inPipe` bytes in the pipe, on their way to the socket.
final class SpliceJob {
    let handle: OpenHandle
    var offset: Int64
    var left: Int
    var inPipe = 0
    init(handle: OpenHandle, offset: Int64, count: Int) {
        self.handle = handle; self.offset = offset; left = count
    }
}

final class Splicer {
    /// READs above this size of tmpfs files are spliced (smaller ones are copied on the loop).
    static let minimum = Engine.inlineMemoryIO

    private struct Pipe { let read: Int32; let write: Int32; let capacity: Int }
    /// Each connection's pipe by connection id; nil in it: the system had none to give
    /// (that connection's READs are copied, and the warning was logged once).
    private var pipes: [UInt64: Pipe?] = [:]
    private unowned(unsafe) let engine: Engine   // the engine owns this part (Engine.swift, "parts")
    private let logger: Logger

    init(engine: Engine, logger: Logger) { self.engine = engine; self.logger = logger }

    deinit {
        for case let p? in pipes.values { close(p.read); close(p.write) }
    }

    /// Answers a READ of `size` bytes at `offset` by splicing, when that applies; false
    /// otherwise (nothing was sent then). `sealed`: the answer must pass through this
    /// process to be encrypted, so it is copied instead.
    func answerRead(_ c: Connection, _ id: UInt64, _ handle: OpenHandle, offset: UInt64, size: Int, sealed: Bool) -> Bool {
        guard !sealed, handle.memoryBacked, !handle.nonSeekable, size > Splicer.minimum,
              pipe(for: c) != nil else { return false }
        var st = stat()
        guard fstat(handle.fd, &st) == 0 else { return false }
        let off = Int64(bitPattern: offset)
        let count = Int(max(0, min(Int64(size), Int64(st.st_size) - off)))
        guard count > 0 else { return false }   // at or past the end: the ordinary path answers 0 bytes
        var w = WireWriter(capacity: Wire.headerSize)
        FrameHeader(kind: .response, opcode: Opcode.read.rawValue, id: id, length: UInt32(count)).encode(into: &w)
        let header = OutBuffer(copying: w.bytes)
        header.spliceAfter = SpliceJob(handle: handle, offset: off, count: count)
        engine.io.send(c, header)
        return true
    }

    /// The connection's pipe, made on first use; nil if the system has no pipe to give.
    private func pipe(for c: Connection) -> Pipe? {
        if let known = pipes[c.id] { return known }
        var fds: [Int32] = [-1, -1]
        var capacity: Int32 = 0
        guard qtfs_pipe_sized(&fds, Int32(Wire.maxIOSize), &capacity) == 0 else {
            pipes[c.id] = .some(nil)
            logger.warning("cannot make a pipe for spliced reads; this connection's reads are copied instead",
                           metadata: ["conn.peer": "\(c.peer)", "error": "\(String(cString: strerror(errno)))"])
            return nil
        }
        let p = Pipe(read: fds[0], write: fds[1], capacity: Int(capacity))
        pipes[c.id] = p
        return p
    }

    /// Moves the next part of `job`: file pages into the empty pipe on the loop (tmpfs pages
    /// never wait for a device, and the pipe has room for them), then the pipe into the
    /// socket in the ring (a full socket must not hold up the loop). When all is sent, the
    /// connection's send queue goes on.
    func next(_ c: Connection, _ job: SpliceJob) {
        guard !c.closing, let known = pipes[c.id], let p = known else { return }
        if job.inPipe == 0 && job.left > 0 && !fillPipe(c, job, p) { return }
        guard job.inPipe > 0 else { return engine.io.spliceDone(c) }
        guard engine.submit(.spliceOut(c, job), { qtfs_uring_splice(engine.ring, p.read, -1, c.fd, UInt32(job.inPipe), $0) }) else {
            return engine.closeConnection(c, reason: "cannot queue a splice: submission queue full")
        }
        c.opsInRing += 1
    }

    /// File pages into the pipe; false after closing the connection when the file cannot
    /// give what the header announced.
    private func fillPipe(_ c: Connection, _ job: SpliceJob, _ p: Pipe) -> Bool {
        var off = job.offset
        let n = qtfs_splice_to_pipe(job.handle.fd, &off, p.write, min(job.left, p.capacity))
        guard n > 0 else {
            let why = n == 0 ? "the file shrank during a READ" : String(cString: strerror(errno))
            logger.warning("spliced READ cannot deliver the length it announced; closing so that the client retries",
                           metadata: ["conn.peer": "\(c.peer)", "error": "\(why)"])
            engine.closeConnection(c, reason: "spliced read failed: \(why)")
            return false
        }
        job.offset = off
        job.left -= n
        job.inPipe = n
        return true
    }

    /// The io_uring splice into the socket completed.
    func splicedOut(_ c: Connection, _ job: SpliceJob, _ res: Int32) {
        c.opsInRing -= 1
        if c.closing { return engine.finishClose(c) }
        guard res > 0 else {
            return engine.closeConnection(c, reason: "send failed: \(res == 0 ? "peer closed" : String(cString: strerror(-res)))")
        }
        job.inPipe -= Int(res)
        c.cell.sent(Int(res))
        next(c, job)
    }

    /// The connection's socket is closed (no ring op refers to it): so is its pipe.
    func connectionGone(_ c: Connection) {
        guard let known = pipes.removeValue(forKey: c.id), let p = known else { return }
        close(p.read); close(p.write)
    }
}
