// The two halves of a forwarded byte stream, used alike by the host (the program's pipes)
// and the DPU (qtfs-rexec's own stdio). Flow control is by credit: a side sends at most
// `Rexec.window` bytes of a stream that the other side has not yet given back with
// REXEC_CREDIT, so a slow reader never makes the other side buffer without bound.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol
import QtfsSystem

/// Reads a local fd and sends its bytes as REXEC_DATA while credit lasts.
public final class OutgoingStream {
    public let fd: Int32
    public let stream: UInt8
    public private(set) var credit = Rexec.window
    public private(set) var ended = false
    public private(set) var bytes: UInt64 = 0

    public init(fd: Int32, stream: UInt8) { self.fd = fd; self.stream = stream }

    /// Whether to poll the fd for input now.
    public func wantsInput(_ channel: FrameChannel) -> Bool {
        !ended && credit > 0 && channel.pendingOutput < Rexec.window
    }

    /// Reads once (the fd polled readable) and queues the bytes, or the end of the stream.
    public func pump(_ channel: FrameChannel) {
        var buf = [UInt8](repeating: 0, count: min(credit, Rexec.maxChunk))
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && (errno == EINTR || errno == EAGAIN) { return }
        guard n > 0 else { return finish(channel) }   // EOF; EIO from a pty whose slave closed
        buf.removeSubrange(n...)
        credit -= n
        bytes += UInt64(n)
        channel.send(.rexecData, RexecData(stream: stream, data: buf))
    }

    /// Ends the stream (EOF sent once).
    public func finish(_ channel: FrameChannel) {
        guard !ended else { return }
        ended = true
        channel.send(.rexecData, RexecData(stream: stream, data: []))
    }

    /// The peer consumed `n` bytes; false when it gives back more than was sent.
    public func credited(_ n: UInt32) -> Bool {
        guard credit + Int(n) <= Rexec.window else { return false }
        credit += Int(n)
        return true
    }
}

/// Writes REXEC_DATA of one stream to a local fd and gives credit back as it goes.
public final class IncomingStream {
    public let fd: Int32
    public let stream: UInt8
    private var queue: [UInt8] = []
    private var queueStart = 0
    private var endPending = false
    public private(set) var closed = false
    public private(set) var bytes: UInt64 = 0

    /// `fd` may be non-blocking (the host's pipes) or blocking (qtfs-rexec's inherited
    /// stdio, whose flags it must not change): then a write waits for the reader.
    public init(fd: Int32, stream: UInt8) { self.fd = fd; self.stream = stream }

    public var pending: Int { queue.count - queueStart }
    public var wantsOutput: Bool { !closed && (pending > 0 || endPending) }

    /// Takes one REXEC_DATA; false when the sender overran its window. Data for a reader
    /// that went away is consumed at once (credited, dropped).
    public func accept(_ data: [UInt8], _ channel: FrameChannel) -> Bool {
        if data.isEmpty { endPending = true; return true }
        guard !endPending, pending + data.count <= Rexec.window else { return false }
        if closed {
            channel.send(.rexecCredit, RexecCredit(stream: stream, bytes: UInt32(data.count)))
        } else {
            queue += data
        }
        return true
    }

    /// Writes what the fd takes now and credits it back; closes the fd after the end.
    public func pump(_ channel: FrameChannel) {
        var written = 0
        while pending > 0 && !closed {
            let n: Int
            do { n = try sys("write") { queue.withUnsafeBytes { write(fd, $0.baseAddress! + queueStart, pending) } } } catch let e as Errno where e.code == EAGAIN {
                break
            } catch { n = -1 }
            if n > 0 { queueStart += n; written += n; continue }
            written += pending          // EPIPE and the like: the reader is gone; drop the rest
            queueStart = queue.count
            closeFd()
        }
        if written > 0 {
            bytes += UInt64(written)
            channel.send(.rexecCredit, RexecCredit(stream: stream, bytes: UInt32(written)))
        }
        if pending == 0 { queue.removeAll(keepingCapacity: true); queueStart = 0 }
        if pending == 0 && endPending { closeFd() }
    }

    public func closeFd() {
        guard !closed else { return }
        closed = true
        close(fd)
    }
}
