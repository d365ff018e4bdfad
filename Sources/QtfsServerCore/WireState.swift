// A connection's socket buffers, owned by the connection I/O part (ConnectionIO.swift):
// the receive buffer and the size of the frame it must hold, the send queue with the
// iovec array of its next sendmsg, whether a receive or send is in the ring, and whether
// sending waits for a spliced READ answer (Splicer.swift). Nothing else touches it.
import Glibc
import QtfsProtocol

final class WireState {
    static let maxIov = 64

    var recv = RecvBuffer()
    /// Size of the frame being received (header size when none started): the receive
    /// buffer must hold it whole.
    var awaiting = Wire.headerSize
    var recvArmed = false
    var sendArmed = false
    /// Queued for the flush at the end of the loop's turn (ConnectionIO.flushSends).
    var flushPending = false
    /// The in-flight throttle was logged (once per connection).
    var throttleLogged = false
    /// A READ answer's header went out and its spliced data is on the way: nothing else is
    /// sent meanwhile.
    var splicing = false
    private var sendQueue: [OutBuffer] = []
    private var sendHead = 0
    /// Bytes queued and not yet sent (the per-connection memory budget).
    private(set) var queuedBytes = 0
    /// Buffers queued and not all sent that someone waits for (not `lazy`).
    private(set) var awaitedUnsent = 0
    /// Only lazy answers are queued and they wait for another answer of the connection
    /// (ConnectionIO.flush).
    var lazyWaiting = false
    /// The loop's tick found them still waiting: they go with the next flush regardless.
    var lazyOverdue = false
    let msg = UnsafeMutablePointer<msghdr>.allocate(capacity: 1)
    private let iov = UnsafeMutablePointer<iovec>.allocate(capacity: WireState.maxIov)

    init() { msg.initialize(to: msghdr()) }

    deinit {
        iov.deallocate()
        msg.deallocate()
    }

    func enqueue(_ b: OutBuffer) {
        sendQueue.append(b)
        queuedBytes += b.count
        if !b.lazy { awaitedUnsent += 1 }
    }

    /// Fills the iovec array from the unsent part of the queue; returns how many.
    func prepareSend() -> Int {
        var n = 0
        var i = sendHead
        while i < sendQueue.count && n < WireState.maxIov {
            let b = sendQueue[i]
            iov[n] = iovec(iov_base: b.base + b.sent, iov_len: b.count - b.sent)
            n += 1; i += 1
            if b.spliceAfter != nil { break }   // its data goes next, not the buffers after it
        }
        msg.pointee = msghdr()
        msg.pointee.msg_iov = iov
        msg.pointee.msg_iovlen = n
        return n
    }

    /// Consumes `sent` bytes from the front of the queue; the splice job whose header this
    /// completed, if any (sending waits for it then).
    func advance(_ sent: Int) -> SpliceJob? {
        var left = sent
        var job: SpliceJob?
        while left > 0 && sendHead < sendQueue.count {
            let b = sendQueue[sendHead]
            let take = min(left, b.count - b.sent)
            b.sent += take
            left -= take
            if b.sent == b.count {
                queuedBytes -= b.count; sendHead += 1
                if !b.lazy { awaitedUnsent -= 1 }
                if let j = b.spliceAfter { job = j; splicing = true; b.spliceAfter = nil; break }
            }
        }
        if sendHead == sendQueue.count || sendHead > 256 {
            sendQueue.removeFirst(sendHead)
            sendHead = 0
        }
        return job
    }

    var hasUnsent: Bool { sendHead < sendQueue.count }

    func dropQueue() {
        splicing = false
        sendQueue.removeAll()
        sendHead = 0
        queuedBytes = 0
        awaitedUnsent = 0
    }

    /// The bytes received and not parsed, taken out of the buffer.
    func takeUnparsed() -> [UInt8] {
        let b = recv
        let leftover = b.unparsed > 0 ? Array(UnsafeRawBufferPointer(start: b.base + b.start, count: b.unparsed)) : []
        b.start = b.end
        return leftover
    }
}
