// Large READs of tmpfs files are answered without copying the data through this process:
// the answer's header goes out as a normal send, then the loop splices the file's pages
// into a pipe and an io_uring splice moves them from the pipe into the socket. A copy into
// a buffer and a copy from it into the socket are saved. Only tmpfs (memory-backed) files,
// where moving pages into the pipe never waits for a device.
//
// The header promises a length, taken from the file's size when the READ arrives. A file
// that shrinks before its pages are spliced cannot deliver it: the connection is closed
// with a log line, and the client sends the READ again on a new connection (docs/client.md,
// "Faults"), which then sees the new size.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
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

extension Engine {
    /// READs above this size of tmpfs files are spliced (smaller ones are copied on the loop).
    static let spliceMinimum = inlineMemoryIO

    /// Answers a READ of `size` bytes at `offset` by splicing, when that applies; false
    /// otherwise (nothing was sent then).
    func answerReadBySplice(_ c: Connection, _ id: UInt64, _ handle: OpenHandle, offset: UInt64, size: Int) -> Bool {
        // A sealed answer must pass through this process to be encrypted: copied instead.
        guard c.sealer == nil, handle.memoryBacked, !handle.nonSeekable, size > Engine.spliceMinimum,
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
        send(c, header)
        return true
    }

    /// The connection's pipe, made on first use; nil if the system has no pipe to give
    /// (then this connection's READs are copied, and the warning is logged once).
    private func pipe(for c: Connection) -> (read: Int32, write: Int32, capacity: Int)? {
        if let p = c.splicePipe { return p }
        if c.splicePipeFailed { return nil }
        var fds: [Int32] = [-1, -1]
        var capacity: Int32 = 0
        guard qtfs_pipe_sized(&fds, Int32(Wire.maxIOSize), &capacity) == 0 else {
            c.splicePipeFailed = true
            logger.warning("cannot make a pipe for spliced reads; this connection's reads are copied instead",
                           metadata: ["conn.peer": "\(c.peer)", "error": "\(String(cString: strerror(errno)))"])
            return nil
        }
        c.splicePipe = (fds[0], fds[1], Int(capacity))
        return c.splicePipe
    }

    /// Moves the next part of `job`: file pages into the empty pipe on the loop (tmpfs pages
    /// never wait for a device, and the pipe has room for them), then the pipe into the
    /// socket in the ring (a full socket must not hold up the loop). When all is sent, the
    /// queue goes on.
    func spliceNext(_ c: Connection, _ job: SpliceJob) {
        guard !c.closing, let p = c.splicePipe else { return }
        if job.inPipe == 0 && job.left > 0 {
            var off = job.offset
            let n = qtfs_splice_to_pipe(job.handle.fd, &off, p.write, min(job.left, p.capacity))
            guard n > 0 else {
                let why = n == 0 ? "the file shrank during a READ" : String(cString: strerror(errno))
                logger.warning("spliced READ cannot deliver the length it announced; closing so that the client retries",
                               metadata: ["conn.peer": "\(c.peer)", "error": "\(why)"])
                return closeConnection(c, reason: "spliced read failed: \(why)")
            }
            job.offset = off
            job.left -= n
            job.inPipe = n
        }
        guard job.inPipe > 0 else {
            c.splicing = nil
            armSend(c)
            pump(c)
            return
        }
        guard submit(.spliceOut(c, job), { qtfs_uring_splice(ring, p.read, -1, c.fd, UInt32(job.inPipe), $0) }) else {
            return closeConnection(c, reason: "cannot queue a splice: submission queue full")
        }
        c.opsInRing += 1
    }

    func splicedOut(_ c: Connection, _ job: SpliceJob, _ res: Int32) {
        c.opsInRing -= 1
        if c.closing { return finishClose(c) }
        guard res > 0 else {
            return closeConnection(c, reason: "send failed: \(res == 0 ? "peer closed" : String(cString: strerror(-res)))")
        }
        job.inPipe -= Int(res)
        c.cell.sent(Int(res))
        spliceNext(c, job)
    }
}
