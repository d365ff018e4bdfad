// One TCP connection to the server: many requests in flight, answered in any order.
// Callers are FUSE worker threads blocking in `call`. There is no reader thread: a waiting
// caller takes the reader role when nobody holds it (leader/follower) and reads frames
// itself. Its own answer returns directly, without a thread hop; answers for others are
// handed to them while it keeps reading; once its own answer is in, it passes the role
// to another waiter (or leaves it free when nobody waits).
#if canImport(Glibc)
import Glibc
#endif
import CQtfsSys
import Logging
import QtfsProtocol
import QtfsSystem
import Synchronization

public final class Connection: @unchecked Sendable {
    public let fd: Int32
    private let state = Lock()
    private var pending: [UInt64: Waiter] = .preallocated()   // protected by state
    private var nextId: UInt64 = 1                 // protected by state
    private var dead = false                       // protected by state
    private var readerBusy = false                 // protected by state: someone holds the role
    private let reader: FrameReader                // used only by the role holder
    private let sendLock = Lock()
    private let held = HeldFrames()                // protected by sendLock
    private var handovers = 0                      // protected by state
    private var leader: Waiter?                    // protected by state: the role holder
    /// Answers of `postTracked` requests go to these, by id (protected by state).
    private var callbacks: [UInt64: (Reply) -> Void] = .preallocated()
    /// Threads in `waitUntil`, with their condition and pending id (protected by state).
    private var conditionWaiters: [(Waiter, UInt64, () -> Bool)] = []
    private let wakeFd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))   // wakes the role holder
    /// `dead`, readable without the state lock (qtinfo, picking a connection).
    private let closed = Atomic<Bool>(false)
    /// Calls sent (or being sent) and not yet answered: read by qtinfo without a lock.
    private let waiting = Atomic<Int>(0)
    /// Called once, from the thread that saw the connection die. Seam for reconnect.
    public var onDeath: (@Sendable (Connection) -> Void)?
    public private(set) var hello: HelloReply?

    /// Takes ownership of a connected stream socket. `logger` gets the lines about the
    /// stream itself (a sealed frame that fails to open).
    public init(socket fd: Int32, logger: Logger = Logger(label: "qtfs-client")) {
        self.fd = fd
        reader = FrameReader(fd: fd, logger: logger)
    }
    deinit { close(fd); close(wakeFd) }

    public var isAlive: Bool { !closed.load(ordering: .relaxed) }
    /// Requests waiting for their answer on this connection (`post`ed ones are not counted).
    public var requestsInFlight: Int { waiting.load(ordering: .relaxed) }
    /// Times the reader role went to another waiter (for tests and tuning).
    var handoverCount: Int { state.withLock { handovers } }

    /// Records the server's HELLO answer (Handshake.swift).
    func setHello(_ h: HelloReply) { hello = h }

    /// The ciphers of a sealed connection (SealedChannel.swift), nil in plaintext. Set by
    /// the handshake before anyone else uses the connection. A relay built on this
    /// connection seals with `sealing.sealer` and opens with `sealing.opener`, whose
    /// counters continue from the frames this connection sent and received.
    public private(set) var sealing: SealedChannel?

    func setSealing(_ channel: SealedChannel) {
        sealing = channel
        reader.opener = channel.opener
    }

    /// Sends one request and blocks until its response. Without one, the reply carries a
    /// `failure`: the connection died (before or after sending), the calling thread's
    /// deadline passed (soft mounts) or it was interrupted. `tail` is appended to the
    /// payload without copying (WRITE data).
    public func call(_ op: Opcode, tail: UnsafeRawBufferPointer? = nil,
                     _ body: (inout WireWriter) -> Void) -> Reply {
        let w = Waiter.current()
        state.lock()
        if dead { state.unlock(); return .notSent }
        let id = nextId
        nextId &+= 1
        pending[id] = w
        state.unlock()
        waiting.wrappingAdd(1, ordering: .relaxed)
        defer { waiting.wrappingSubtract(1, ordering: .relaxed) }
        if !send(op, id, tail, body) {
            die()   // a frame not fully sent cannot have been executed
            state.withLock { _ = w.take() }
            return .notSent
        }
        w.waitingOn.withLock { $0 = self }
        defer { w.waitingOn.withLock { $0 = nil } }
        return wait(w, id)
    }

    /// `call` with a request body the codec encodes (path requests: SessionCall.onPath).
    public func call<P: WirePayload>(_ op: Opcode, _ payload: P) -> Reply {
        call(op) { payload.encode(into: &$0) }
    }

    /// Sends one request without waiting for its answer, which is read and dropped later
    /// by whoever holds the reader role (RELEASE, RELEASEDIR). Sent in order with earlier
    /// requests on this connection. False if the connection is dead.
    @discardableResult
    public func post(_ op: Opcode, _ body: (inout WireWriter) -> Void) -> Bool {
        guard let id = newId() else { return false }
        if !send(op, id, nil, body) { die(); return false }
        return true
    }

    /// A fresh request id, or nil when the connection is dead.
    private func newId() -> UInt64? {
        state.lock()
        defer { state.unlock() }
        if dead { return nil }
        defer { nextId &+= 1 }
        return nextId
    }

    /// As `post`, but the frame waits to go with the next frame this connection sends, or
    /// alone within `HeldFrames.delay` (HeldFrames.swift). False if the connection is dead.
    @discardableResult
    public func postHeld(_ op: Opcode, _ body: (inout WireWriter) -> Void) -> Bool {
        guard let id = newId() else { return false }
        let wr = Self.frame(op, id, tailCount: 0, body)
        let now = sendLock.withLock { () -> (first: Bool, full: Bool)? in
            guard let frame = sealing.map({ $0.sealed(wr.bytes) }) ?? wr.bytes else { return nil }
            let first = held.bytes.isEmpty
            held.bytes += frame
            return (first, held.bytes.count > HeldFrames.maxBytes)
        }
        guard let now else { die(); return false }
        if now.full { flushHeld() } else if now.first { HeldFlusher.shared.schedule(self) }
        return true
    }

    /// Sends the held frames now, if a request has not taken them yet.
    func flushHeld() {
        let ok = sendLock.withLock { () -> Bool in
            guard !held.bytes.isEmpty else { return true }
            defer { held.bytes.removeAll(keepingCapacity: true) }
            return held.bytes.withUnsafeBytes { SocketIO.sendAll(fd, [$0]) }
        }
        if !ok { die() }
    }

    /// Sends a request whose answer goes to `onAnswer` rather than to a waiting caller.
    /// `onAnswer` runs on whichever thread reads the answer, with this connection's state
    /// lock held: it must be short and take only leaf locks. A connection that dies first
    /// answers with `Reply.eio` (failure `.lost`). False (and no call) if it was dead already.
    public func postTracked(_ op: Opcode, tail: UnsafeRawBufferPointer?, _ body: (inout WireWriter) -> Void,
                            onAnswer: @escaping (Reply) -> Void) -> Bool {
        state.lock()
        if dead { state.unlock(); return false }
        let id = nextId
        nextId &+= 1
        callbacks[id] = onAnswer
        state.unlock()
        if !send(op, id, tail, body) { die() }   // die() answers it with .eio
        return true
    }

    /// Blocks until `isDone` holds, reading answers meanwhile (so tracked answers arrive
    /// even when no other caller waits). `isDone` is evaluated with the state lock held,
    /// after each tracked answer. Returns nil when it holds, else why the wait ended: the
    /// connection died, or this thread's deadline or interrupt.
    public func waitUntil(_ isDone: @escaping () -> Bool) -> Reply? {
        let w = Waiter.current()
        state.lock()
        if isDone() { state.unlock(); return nil }
        if dead { state.unlock(); return .eio }
        let id = nextId   // an id the server never answers: it only places w among the waiters
        nextId &+= 1
        pending[id] = w
        conditionWaiters.append((w, id, isDone))
        state.unlock()
        let r = wait(w, id)
        state.withLock {
            pending[id] = nil
            conditionWaiters.removeAll { $0.0 === w }
        }
        return r.failure == nil && r.status == 0 ? nil : r
    }

    /// After a tracked answer: completes the condition waiters whose condition now holds.
    private func completeSatisfiedLocked() {
        for (w, id, isDone) in conditionWaiters where !w.done && isDone() {
            pending[id] = nil
            w.complete(Reply(status: 0, payload: []))
        }
    }

    private func send(_ op: Opcode, _ id: UInt64, _ tail: UnsafeRawBufferPointer?,
                      _ body: (inout WireWriter) -> Void) -> Bool {
        let wr = Self.frame(op, id, tailCount: tail?.count ?? 0, body)
        sendLock.lock()
        defer { sendLock.unlock() }
        return sendFrame(wr.bytes, tail)
    }

    /// A request frame: header and `body`, its length counting `tailCount` more bytes.
    private static func frame(_ op: Opcode, _ id: UInt64, tailCount: Int, _ body: (inout WireWriter) -> Void) -> WireWriter {
        var wr = WireWriter(capacity: 256)
        FrameHeader(kind: .request, opcode: op.rawValue, id: id, length: 0).encode(into: &wr)
        body(&wr)
        wr.setFrameLength(plus: tailCount)
        return wr
    }

    /// Blocks until `w` has its reply, reading the socket whenever the role is free. Gives
    /// up at the waiter's deadline or on its interrupt (its answer is then dropped on arrival).
    private func wait(_ w: Waiter, _ id: UInt64) -> Reply {
        state.lock()
        defer { state.unlock() }
        while !w.done {
            if dead { return .eio }   // die() completed everyone; a late registrant lands here
            if let giveUp = w.reasonToStop() {
                pending[id] = nil
                return giveUp
            }
            if readerBusy {
                _ = w.cond.wait(state, until: w.wakeBy())
                continue
            }
            readerBusy = true
            leader = w
            state.unlock()
            readUntilAnswered(w)
            state.lock()
        }
        return w.take()
    }

    /// Holds the reader role until `w` is answered, gives up (deadline, interrupt) or the
    /// connection dies, then passes the role on. Called without the state lock.
    private func readUntilAnswered(_ w: Waiter) {
        while true {
            if !reader.hasBufferedBytes && !waitReadable(w) {
                state.withLock { passRoleLocked() }   // w gives up; wait() says why
                return
            }
            guard let (h, payload) = reader.next() else { die(); return }
            guard h.kind == .response else { continue }   // events are reserved in v1
            state.lock()
            let target = pending.removeValue(forKey: h.id)   // nil: a posted or abandoned request
            let reply = Reply(status: Int32(bitPattern: h.status), payload: payload)
            target?.complete(reply)
            if target == nil, let onAnswer = callbacks.removeValue(forKey: h.id) {
                onAnswer(reply)
                completeSatisfiedLocked()
            }
            if target === w || w.done {
                passRoleLocked()
                state.unlock()
                return
            }
            state.unlock()
        }
    }

    /// Polls the socket and the wake eventfd until the socket is readable (true) or `w`
    /// must stop waiting (false). One poll per batch of frames: small next to a round trip.
    private func waitReadable(_ w: Waiter) -> Bool {
        withUnsafeTemporaryAllocation(of: pollfd.self, capacity: 2) { fds in
            while true {
                if w.reasonToStop() != nil { return false }
                fds[0] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                fds[1] = pollfd(fd: wakeFd, events: Int16(POLLIN), revents: 0)
                let until = w.wakeBy()
                let ms = max(0, Int32(min((until - Clock.now()) * 1000 + 1, 60_000)))
                if (try? sys("poll") { poll(fds.baseAddress, 2, ms) }) == nil { return true }   // recv reports it
                if fds[1].revents != 0 { var v: UInt64 = 0; _ = read(wakeFd, &v, 8) }
                if fds[0].revents != 0 { return true }
            }
        }
    }

    /// An interrupt arrived for `w` (another thread): wake it wherever it waits here.
    func wake(_ w: Waiter) {
        state.withLock {
            w.cond.signal()
            if leader === w { var one: UInt64 = 1; _ = write(wakeFd, &one, 8) }
        }
    }

    /// Frees the reader role and wakes one waiter to take it, if any is waiting.
    private func passRoleLocked() {
        readerBusy = false
        leader = nil
        if let (_, next) = pending.first {
            handovers += 1
            next.cond.signal()
        }
    }

    /// False (and the connection marked dead) if the server has already closed it. Checked
    /// before a request that cannot be repeated, so that a connection dropped while idle
    /// (server restart, idle timeout) does not make its outcome look unknown.
    public func peerStillOpen() -> Bool {
        if peerHasClosed { die(); return false }
        return isAlive
    }

    /// The server closed or reset the socket, whether or not this side has noticed yet
    /// (a zero-timeout poll: no lock, no wait).
    public var peerHasClosed: Bool {
        let gone = Int16(Self.pollRdHup) | Int16(POLLHUP) | Int16(POLLERR)
        var p = pollfd(fd: fd, events: Int16(Self.pollRdHup), revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents & gone != 0
    }
    private static let pollRdHup: Int32 = 0x2000   // POLLRDHUP (GNU-only in <poll.h>)

    /// Closes the connection: pending and later calls fail with EIO.
    public func shutdownNow() { die() }

    /// Call with the send lock: the held frames go first, in the same sendmsg.
    private func sendFrame(_ head: [UInt8], _ tail: UnsafeRawBufferPointer?) -> Bool {
        if held.bytes.isEmpty { return writeFrame(fd, head, tail, sealed: sealing) }
        defer { held.bytes.removeAll(keepingCapacity: true) }
        return held.bytes.withUnsafeBytes { writeFrame(fd, head, tail, sealed: sealing, after: $0) }
    }

    /// Marks the connection dead and fails everything in flight with EIO (`.lost`).
    func die() {
        state.lock()
        if dead { state.unlock(); return }
        dead = true
        closed.store(true, ordering: .relaxed)
        readerBusy = false
        leader = nil
        for (_, w) in pending { w.complete(.eio) }
        pending = [:]
        for (_, onAnswer) in callbacks { onAnswer(.eio) }
        callbacks = [:]
        state.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        onDeath?(self)
    }
}
