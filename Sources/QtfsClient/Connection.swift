// One TCP connection to the server: many requests in flight, answered in any order.
// Callers block in `call` (FUSE worker threads); a reader thread parses frames as they
// arrive and wakes the caller whose id matches.
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
    private let sendLock = PMutex()
    /// Called once, from the reader thread, when the connection dies. Seam for reconnect.
    public var onDeath: (@Sendable (Connection) -> Void)?
    public private(set) var hello: HelloReply?

    /// Takes ownership of a connected stream socket and starts its reader thread.
    public init(socket fd: Int32) {
        self.fd = fd
        startReader()
    }
    deinit { close(fd) }

    public var isAlive: Bool { state.withLock { !dead } }

    /// HELLO: must be the first call on the connection.
    public func handshake(clientName: String) throws {
        let r = call(.hello) { HelloRequest(clientName: clientName).encode(into: &$0) }
        let h = try r.decode(HelloReply.self)
        guard h.version == Wire.version else { throw FSError(LinuxErrno.EPROTO) }
        hello = h
    }

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

        var wr = WireWriter(capacity: 256)
        FrameHeader(kind: .request, opcode: op.rawValue, id: id, length: 0).encode(into: &wr)
        body(&wr)
        let length = wr.bytes.count - Wire.headerSize + (tail?.count ?? 0)
        wr.patchU32(at: 16, UInt32(length))
        sendLock.lock()
        let ok = sendFrame(wr.bytes, tail)
        sendLock.unlock()
        if !ok { die() }
        return w.wait()
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
        let waiting = pending
        pending = [:]
        state.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        for (_, w) in waiting { w.complete(.eio) }
        onDeath?(self)
    }

    func deliver(_ h: FrameHeader, _ payload: [UInt8]) {
        guard h.kind == .response else { return }   // events are reserved in v1
        state.lock()
        let w = pending.removeValue(forKey: h.id)
        state.unlock()
        w?.complete(Reply(status: Int32(bitPattern: h.status), payload: payload))
    }

    private func startReader() {
        var tid = pthread_t()
        let arg = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&tid, nil, { arg in
            let c = Unmanaged<Connection>.fromOpaque(arg!).takeRetainedValue()
            FrameReader(fd: c.fd).run(c)
            c.die()
            return nil
        }, arg)
        if rc != 0 {
            Unmanaged<Connection>.fromOpaque(arg).release()
            dead = true
        } else {
            pthread_detach(tid)
        }
    }
}
