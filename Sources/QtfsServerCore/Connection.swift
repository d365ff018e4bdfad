// One client connection, owned by the event loop thread (only `handles` is shared
// with workers).
import Glibc
internal import CQtfsSys
import QtfsControl
import QtfsAuth
import QtfsProtocol
import QtfsSystem

final class Connection {
    static let maxIov = 64

    let id: UInt64
    let fd: Int32
    let peer: String
    let handles: HandleTable
    /// Traffic counters read by the control endpoint.
    let cell: ConnectionCell
    /// Start time of each request being served, by request id (statistics).
    var started: [UInt64: UInt64] = [:]
    var recv = RecvBuffer()

    /// Where the connection is in its life. It only moves forward (`enter`).
    enum Phase: Int, Comparable {
        /// Accepted: only HELLO is looked at; anything else closes the connection.
        case awaitingHello
        /// HELLO answered and the server asks for a key: only AUTH_CHALLENGE and
        /// AUTH_RESPONSE are looked at (GatekeeperHandshake.swift).
        case authenticating
        /// Serving requests (Routes.swift).
        case open
        /// Refused in the handshake: closed once its last answer is sent; nothing received
        /// after that is looked at (qtinfo shows it `closed` meanwhile).
        case refused
        /// Closed, or taken off the loop (socket relay, remote exec): nothing is received or
        /// sent any more; the fd is closed once no io_uring op refers to it (`opsInRing`).
        case closing

        static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
    }
    private(set) var phase = Phase.awaitingHello
    var closing: Bool { phase == .closing }

    /// Moves on to `next`; a step back (a repeated HELLO once open) is ignored.
    func enter(_ next: Phase) {
        guard next > phase else { return }
        phase = next
        if next == .refused { cell.state = .closed }
    }

    /// The handshake's exchange, the suite, the sealer and opener (Gatekeeper.swift).
    let security = ConnectionSecurity()
    /// Monotonic seconds: when accepted, and when data last arrived (timeouts).
    let openedAt = MonotonicClock.now()
    var lastActive = MonotonicClock.now()
    /// The in-flight throttle was logged (once per connection).
    var throttleLogged = false
    private(set) var fdClosed = false
    /// io_uring ops referring to this connection; its fd is closed when this drops to 0.
    var opsInRing = 0
    var recvArmed = false
    var sendArmed = false
    /// Requests taken off the wire and not yet answered (workers, io_uring reads/writes).
    var inFlight = 0
    /// Size of the frame being received (header size when none started): the receive
    /// buffer must hold it whole.
    var awaiting = 24

    /// Bytes held by READ/WRITE ops in flight (their buffers), counted with `queuedBytes`
    /// against the per-connection memory budget.
    var ioBytes = 0

    /// The spliced READ answer being sent now (Splicer.swift): nothing else is sent meanwhile.
    var splicing: SpliceJob?
    var sendQueue: [OutBuffer] = []
    var sendHead = 0
    var queuedBytes = 0
    let iov = UnsafeMutablePointer<iovec>.allocate(capacity: Connection.maxIov)
    let msg = UnsafeMutablePointer<msghdr>.allocate(capacity: 1)

    init(id: UInt64, fd: Int32, peer: String, maxHandles: Int = Int.max) {
        self.id = id; self.fd = fd; self.peer = peer
        cell = ConnectionCell(id: id, peer: peer, state: .connecting)
        handles = HandleTable(limit: maxHandles)
        msg.initialize(to: msghdr())
    }

    deinit {
        closeFd()
        iov.deallocate()
        msg.deallocate()
    }

    func closeFd() {
        guard !fdClosed else { return }
        fdClosed = true
        close(fd)
    }

    func enqueue(_ b: OutBuffer) {
        sendQueue.append(b)
        queuedBytes += b.count
    }

    /// Fills the iovec array from the unsent part of the queue; returns how many.
    func prepareSend() -> Int {
        var n = 0
        var i = sendHead
        while i < sendQueue.count && n < Connection.maxIov {
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

    /// Consumes `sent` bytes from the front of the queue.
    func advance(_ sent: Int) {
        var left = sent
        while left > 0 && sendHead < sendQueue.count {
            let b = sendQueue[sendHead]
            let take = min(left, b.count - b.sent)
            b.sent += take
            left -= take
            if b.sent == b.count {
                queuedBytes -= b.count; sendHead += 1
                if let job = b.spliceAfter { splicing = job; b.spliceAfter = nil; break }
            }
        }
        if sendHead == sendQueue.count || sendHead > 256 {
            sendQueue.removeFirst(sendHead)
            sendHead = 0
        }
    }

    var hasUnsent: Bool { sendHead < sendQueue.count }

    func dropQueue() {
        splicing = nil
        sendQueue.removeAll()
        sendHead = 0
        queuedBytes = 0
    }
}
