// One TCP connection to the server: many requests in flight, answered in any order.
// Callers are FUSE worker threads blocking in `call`. There is no reader thread: a waiting
// caller takes the reader role when nobody holds it (leader/follower) and reads frames
// itself. Its own answer returns directly, without a thread hop; answers for others are
// handed to them while it keeps reading; once its own answer is in, it passes the role
// to another waiter (or leaves it free when nobody waits).
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

public final class Connection: @unchecked Sendable {
    public let fd: Int32
    private let state = PMutex()
    private var pending: [UInt64: Waiter] = [:]   // protected by state
    private var nextId: UInt64 = 1                 // protected by state
    private var dead = false                       // protected by state
    private var readerBusy = false                 // protected by state: someone holds the role
    private let reader: FrameReader                // used only by the role holder
    private let sendLock = PMutex()
    private var handovers = 0                      // protected by state
    /// Called once, from the thread that saw the connection die. Seam for reconnect.
    public var onDeath: (@Sendable (Connection) -> Void)?
    public private(set) var hello: HelloReply?

    /// Takes ownership of a connected stream socket.
    public init(socket fd: Int32) {
        self.fd = fd
        reader = FrameReader(fd: fd)
    }
    deinit { close(fd) }

    public var isAlive: Bool { state.withLock { !dead } }
    /// Times the reader role went to another waiter (for tests and tuning).
    var handoverCount: Int { state.withLock { handovers } }

    /// Records the server's HELLO answer (Handshake.swift).
    func setHello(_ h: HelloReply) { hello = h }

    /// Sends one request and blocks until its response (or EIO if the connection dies).
    /// `tail` is appended to the payload without copying (WRITE data).
    public func call(_ op: Opcode, tail: UnsafeRawBufferPointer? = nil,
                     _ body: (inout WireWriter) -> Void) -> Reply {
        let w = Waiter.current()
        state.lock()
        if dead { state.unlock(); return .eio }
        let id = nextId
        nextId &+= 1
        pending[id] = w
        state.unlock()
        if !send(op, id, tail, body) { die() }
        return wait(w)
    }

    /// Sends one request without waiting for its answer, which is read and dropped later
    /// by whoever holds the reader role (RELEASE, RELEASEDIR). Sent in order with earlier
    /// requests on this connection. False if the connection is dead.
    @discardableResult
    public func post(_ op: Opcode, _ body: (inout WireWriter) -> Void) -> Bool {
        state.lock()
        if dead { state.unlock(); return false }
        let id = nextId
        nextId &+= 1
        state.unlock()
        if !send(op, id, nil, body) { die(); return false }
        return true
    }

    private func send(_ op: Opcode, _ id: UInt64, _ tail: UnsafeRawBufferPointer?,
                      _ body: (inout WireWriter) -> Void) -> Bool {
        var wr = WireWriter(capacity: 256)
        FrameHeader(kind: .request, opcode: op.rawValue, id: id, length: 0).encode(into: &wr)
        body(&wr)
        let length = wr.bytes.count - Wire.headerSize + (tail?.count ?? 0)
        wr.patchU32(at: 16, UInt32(length))
        sendLock.lock()
        defer { sendLock.unlock() }
        return sendFrame(wr.bytes, tail)
    }

    /// Blocks until `w` has its reply, reading the socket whenever the role is free.
    private func wait(_ w: Waiter) -> Reply {
        state.lock()
        defer { state.unlock() }
        while !w.done {
            if dead { return .eio }   // die() completed everyone; a late registrant lands here
            if readerBusy {
                pthread_cond_wait(w.cond, state.raw)
                continue
            }
            readerBusy = true
            state.unlock()
            readUntilAnswered(w)
            state.lock()
        }
        return w.take()
    }

    /// Holds the reader role until `w` is answered or the connection dies, then passes
    /// the role on. Called without the state lock.
    private func readUntilAnswered(_ w: Waiter) {
        while true {
            guard let (h, payload) = reader.next() else { die(); return }
            guard h.kind == .response else { continue }   // events are reserved in v1
            state.lock()
            let target = pending.removeValue(forKey: h.id)   // nil: a posted request's answer
            target?.complete(Reply(status: Int32(bitPattern: h.status), payload: payload))
            if target === w {
                passRoleLocked()
                state.unlock()
                return
            }
            state.unlock()
        }
    }

    /// Frees the reader role and wakes one waiter to take it, if any is waiting.
    private func passRoleLocked() {
        readerBusy = false
        if let (_, next) = pending.first {
            handovers += 1
            pthread_cond_signal(next.cond)
        }
    }

    /// Closes the connection: pending and later calls fail with EIO.
    public func shutdownNow() { die() }

    private func sendFrame(_ head: [UInt8], _ tail: UnsafeRawBufferPointer?) -> Bool {
        head.withUnsafeBytes { h in
            var parts = [h]
            if let tail, tail.count > 0 { parts.append(tail) }
            return SocketIO.sendAll(fd, parts)
        }
    }

    /// Marks the connection dead and fails everything in flight with EIO.
    func die() {
        state.lock()
        if dead { state.unlock(); return }
        dead = true
        readerBusy = false
        for (_, w) in pending { w.complete(.eio) }
        pending = [:]
        state.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        onDeath?(self)
    }
}
