// One client connection, owned by the event loop thread (only `handles` is shared
// with workers). It holds what the engine itself keeps per connection (socket, handle
// table, phase, requests in flight, ring ops, timestamps, statistics); the state of one
// part lives in that part's sub-object (`wire`: ConnectionIO; `security`: Gatekeeper) or
// in the part itself, keyed by connection (Splicer's pipes, Fifos' waits and polls,
// HostSocketBridge's listeners).
import Glibc
internal import CQtfsSys
import QtfsControl
import QtfsAuth
import QtfsProtocol
import QtfsSystem

final class Connection {
    let id: UInt64
    let fd: Int32
    let peer: String
    let handles: HandleTable
    /// Traffic counters read by the control endpoint.
    let cell: ConnectionCell
    /// Start time of each request being served, by request id (statistics).
    var started: [UInt64: UInt64] = [:]

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
    private(set) var fdClosed = false
    /// io_uring ops referring to this connection; its fd is closed when this drops to 0.
    var opsInRing = 0
    /// Requests taken off the wire and not yet answered (workers, io_uring reads/writes).
    var inFlight = 0
    /// The client asked in HELLO that RELEASE and RELEASEDIR go unanswered.
    var quietRelease = false

    /// Bytes held by READ/WRITE ops in flight (their buffers), counted with the send
    /// queue's bytes against the per-connection memory budget.
    var ioBytes = 0

    /// The socket's buffers and send queue (WireState.swift, ConnectionIO.swift).
    let wire = WireState()

    init(id: UInt64, fd: Int32, peer: String, maxHandles: Int = Int.max) {
        self.id = id; self.fd = fd; self.peer = peer
        cell = ConnectionCell(id: id, peer: peer, state: .connecting)
        handles = HandleTable(limit: maxHandles)
    }

    deinit {
        closeFd()
    }

    func closeFd() {
        guard !fdClosed else { return }
        fdClosed = true
        close(fd)
    }
}
