// The io_uring event loop. One thread owns the ring, the listening socket and every
// connection: it accepts, receives, parses frames, submits READ/WRITE on handles as
// io_uring ops, hands other requests to the worker pool and sends the answers.
//
// The engine itself owns the ring (its op slots, submission and the dispatch of each
// completion, here), the connection table (EngineConnections.swift) and the routing of
// each request (EngineRouting.swift). It composes parts that own their own state and ask
// it to submit ring ops: connection I/O (ConnectionIO), fifos and polls (Fifos), spliced
// READs (Splicer), the unix socket bridge (HostSocketBridge), admission, the handshake
// and sealing (Gatekeeper).
//
// Parts: the engine makes and holds each part, and a part's only way back is its
// `unowned(unsafe)` reference to the engine, which outlives it. Unsafe on purpose: a
// checked unowned reference costs an atomic retain and release on every access, and
// each request frame goes through several (framing, sealing, answering).
//
// user_data layout: slot index in `ops` + 1 (never 0). The slot says what completed.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsControl
import QtfsProtocol
import QtfsSystem

final class Engine {
    enum Op {
        case accept
        case acceptRetry
        case tick
        case wake
        case cancel
        case recv(Connection)
        case send(Connection)
        case read(Connection, ReadOp)
        case write(Connection, WriteOp)
        case fifoTick                      // Fifos: periodic re-check of waiting opens
        case fifoNotify                    // Fifos: the inotify fd is readable
        case poll(Connection, PollWatch)   // an armed POLL (FifoPolls.swift)
        case fifoIO(Connection, FifoIO)    // a fifo READ/WRITE waiting for readiness
        case sockAccept(Connection, SockListener)   // SOCK_LISTEN socket (HostSocketListen.swift)
        case spliceOut(Connection, SpliceJob)       // pipe -> socket (Splicer.swift)
    }
    struct ReadOp { let id: UInt64; let handle: OpenHandle; let buffer: OutBuffer }
    struct WriteOp { let id: UInt64; let handle: OpenHandle; let keep: AnyObject; let bytes: Int }

    let ring: OpaquePointer
    let listenFd: Int32
    let config: ServerConfig
    var logger: Logger
    let pool: WorkerPool
    /// Follows the routing table for each request (Routes.swift).
    let router: Router
    /// The file backend itself, for what the engine opens or checks on its own (fifo
    /// waits, sockets).
    let backend: Backend
    let completions: Completions
    let opStats: StatsRegistry
    let connRegistry: ConnectionRegistry
    /// Admission, the handshake and sealing, with each connection's security state.
    let gatekeeper: Gatekeeper
    /// Each connection's receive, framing, send queue and back-pressure.
    private(set) lazy var io = ConnectionIO(engine: self, logger: logger)
    /// Fifo opens, reads and writes waiting for their other end, armed polls, CANCEL.
    private(set) lazy var fifos = Fifos(engine: self, logger: logger)
    /// The unix socket bridge: SOCK_CONNECT, SOCK_LISTEN, SOCK_ACCEPT and their listeners.
    private(set) lazy var sockets = HostSocketBridge(engine: self, logger: logger)
    /// Spliced READ answers and each connection's pipe for them.
    private(set) lazy var splicer = Splicer(engine: self, logger: logger)
    var conns: [UInt64: Connection] = [:]
    var nextConn: UInt64 = 1
    private(set) var ops: [Op?] = []
    private var freeSlots: [Int] = []
    private(set) var liveOps = 0
    private let wakeBuf = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private let stopLock = Lock()
    private var stopRequested = false
    var stopping = false
    /// Connection count, readable from other threads (tests, stats).
    let stats = Stats()

    final class Stats: @unchecked Sendable {
        private let lock = Lock()
        private var _connections = 0
        var connections: Int { lock.withLock { _connections } }
        func set(_ n: Int) { lock.withLock { _connections = n } }
    }

    init(listenFd: Int32, config: ServerConfig, logger: Logger, pool: WorkerPool, router: Router,
         backend: Backend, completions: Completions, opStats: StatsRegistry, connRegistry: ConnectionRegistry,
         admission: Admission) throws {
        self.listenFd = listenFd; self.config = config; self.logger = logger
        gatekeeper = Gatekeeper(admission: admission, logger: logger)
        self.pool = pool; self.router = router; self.backend = backend; self.completions = completions
        self.opStats = opStats; self.connRegistry = connRegistry
        var err: Int32 = 0
        guard let ring = qtfs_uring_new(1024, &err) else {
            throw ConfigError("io_uring is unavailable (\(String(cString: strerror(-err)))); check kernel.io_uring_disabled and the seccomp profile")
        }
        self.ring = ring
        gatekeeper.engine = self
    }

    deinit {
        wakeBuf.deallocate()
    }

    /// Asks the loop to stop; safe from any thread.
    func requestStop() {
        stopLock.withLock { stopRequested = true }
        completions.wake()
    }

    func run() {
        armAccept()
        armWake()
        armTick()
        var uds = [UInt64](repeating: 0, count: 64), res = [Int32](repeating: 0, count: 64)
        while !stopping {
            let r = qtfs_uring_submit_wait(ring, -1)
            if r < 0 && r != -EBUSY && r != -EAGAIN {
                // Not transient: spinning on it would burn a core. Stop and say so.
                logger.critical("io_uring wait failed, stopping", metadata: ["error": "\(String(cString: strerror(-r)))"])
                stopping = true
            }
            reapAll(&uds, &res)
            io.flushSends()
        }
        shutdown(&uds, &res)
    }

    private func reapAll(_ uds: inout [UInt64], _ res: inout [Int32]) {
        while true {
            let n = Int(qtfs_uring_reap(ring, &uds, &res, 64))
            if n == 0 { return }
            for i in 0..<n { complete(uds[i], res[i]) }
        }
    }

    /// Closes everything, cancels what is in flight and waits (bounded) for it to end,
    /// so no buffer is freed under the kernel.
    private func shutdown(_ uds: inout [UInt64], _ res: inout [Int32]) {
        close(listenFd)
        for c in Array(conns.values) { closeConnection(c, reason: "server stopping") }
        _ = submit(.cancel) { qtfs_uring_cancel_all(ring, $0) }
        var rounds = 0
        while liveOps > 0 && rounds < 50 {
            _ = qtfs_uring_submit_wait(ring, 100)
            reapAll(&uds, &res)
            rounds += 1
        }
        if liveOps > 0 { logger.warning("io_uring ops still in flight at exit", metadata: ["ops": "\(liveOps)"]) }
        qtfs_uring_exit(ring)
    }

    // MARK: op slots

    /// Records `op`, lets `prep` fill an SQE with the slot's user_data. False if the ring is full.
    @discardableResult
    func submit(_ op: Op, _ prep: (UInt64) -> Int32) -> Bool {
        let slot: Int
        if let s = freeSlots.popLast() { slot = s; ops[s] = op } else { slot = ops.count; ops.append(op) }
        guard prep(UInt64(slot) + 1) == 0 else {
            ops[slot] = nil
            freeSlots.append(slot)
            return false
        }
        liveOps += 1
        return true
    }

    private func complete(_ ud: UInt64, _ res: Int32) {
        let slot = Int(ud) - 1
        guard slot >= 0, slot < ops.count, let op = ops[slot] else { return }
        ops[slot] = nil
        freeSlots.append(slot)
        liveOps -= 1
        switch op {
        case .accept: accepted(res)
        case .acceptRetry: if !stopping { armAccept() }
        case .tick: if !stopping { gatekeeper.checkTimeouts(Array(conns.values)); io.flushLazy(conns.values); armTick() }
        case .wake: woke()
        case .cancel: break
        case .recv(let c): io.received(c, res)
        case .send(let c): io.sent(c, res)
        case .read(let c, let r): readDone(c, r, res)
        case .write(let c, let w): writeDone(c, w, res)
        case .fifoTick: fifos.ticked()
        case .fifoNotify: fifos.notified()
        case .poll(let c, let w): fifos.pollFired(c, w, res)
        case .fifoIO(let c, let io): fifos.ready(c, io, res)
        case .sockAccept(let c, let l): sockets.listenerAccepted(c, l, res)
        case .spliceOut(let c, let job): splicer.splicedOut(c, job, res)
        }
    }

    /// Cancels every op in the ring that `mine` selects (its completion comes with -ECANCELED).
    func cancelInRing(where mine: (Op) -> Bool) {
        for (slot, op) in ops.enumerated() {
            guard let op, mine(op) else { continue }
            _ = submit(.cancel) { qtfs_uring_cancel(ring, UInt64(slot) + 1, $0) }
        }
    }

    /// CANCEL of a READ or WRITE of `c` with request id `id` still in the ring; false when
    /// there is none.
    func cancelIO(of c: Connection, request id: UInt64) -> Bool {
        let slot = ops.firstIndex { op in
            switch op {
            case .read(let oc, let r)?: return oc === c && r.id == id
            case .write(let oc, let w)?: return oc === c && w.id == id
            case .fifoIO(let oc, let io)?: return oc === c && io.id == id
            default: return false
            }
        }
        guard let slot else { return false }
        _ = submit(.cancel) { qtfs_uring_cancel(ring, UInt64(slot) + 1, $0) }
        return true
    }

    // MARK: listening socket and worker wake-ups

    func armAccept() {
        if !submit(.accept, { qtfs_uring_accept(ring, listenFd, $0) }) {
            logger.error("cannot arm accept: submission queue full")
        }
    }

    /// The once-a-second tick of the handshake and idle timeouts.
    private func armTick() {
        _ = submit(.tick) { qtfs_uring_timeout(ring, 1000, $0) }
    }

    private func armWake() {
        submit(.wake) { qtfs_uring_read(ring, completions.eventfd, wakeBuf, 8, UInt64.max, $0) }
    }

    private func woke() {
        if stopLock.withLock({ stopRequested }) { stopping = true }
        for (id, frame) in completions.drain() {
            guard let c = conns[id] else { continue }   // connection gone: drop the answer
            c.inFlight -= 1
            io.send(c, frame)
            io.pump(c)
        }
        if !stopping { armWake() }
    }
}
