// A dedicated connection for requests that may wait indefinitely (fifo OPEN, READ, WRITE)
// and for server events (POLL_READY). Unlike `Connection`, nobody blocks on it: each
// request carries a completion, run by the channel's own reader thread, so a FUSE thread
// is never held by a fifo (docs/client.md, "Fifos"). Set up with the same dial and
// handshake as every other connection.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import QtfsProtocol
import QtfsSystem

public final class StreamChannel: @unchecked Sendable {
    private let conn: Connection      // owns the socket; handshake done, then unused
    private let reader: FrameReader
    private let lock = Lock()
    private var pending: [UInt64: (Reply) -> Void] = [:]   // protected by lock
    private var cancelledEarly: Set<UInt64> = []            // protected by lock
    private var cancelled: Set<UInt64> = []                 // protected by lock: CANCEL sent
    private var dead = false                                // protected by lock
    private let sendLock = Lock()
    /// Events (POLL_READY), called on the reader thread.
    public var onEvent: (@Sendable (FrameHeader, [UInt8]) -> Void)?

    /// Request ids are unique across channels, so a CANCEL for an id of a dead channel
    /// can never hit an unrelated request of its successor.
    nonisolated(unsafe) private static var lastId: UInt64 = 0
    private static let idLock = Lock()

    public init(_ addr: ServerAddress, clientName: String = "qtfs-fuse-streams",
                logger: Logger = Logger(label: "qtfs-client")) throws {
        conn = Connection(socket: try Dial.tcp(host: addr.host, port: addr.port), logger: logger)
        do { try conn.handshake(clientName: clientName) } catch {
            conn.shutdownNow()
            throw ConnectError("server at \(addr) did not complete HELLO on the stream connection")
        }
        reader = FrameReader(fd: conn.fd, opener: conn.sealing?.opener, logger: logger)
        try startReaderThread()
    }

    public var isAlive: Bool { lock.withLock { !dead } }

    /// What the server announced in HELLO (HelloReply.cap*).
    public var serverCapabilities: UInt64 { conn.hello?.capabilities ?? 0 }

    /// An id for `start`, taken before the request is sent so that an interrupt handler can
    /// be registered for it first.
    public static func reserveId() -> UInt64 { idLock.withLock { lastId += 1; return lastId } }

    /// Sends a request; `done` runs once with its answer (EIO if the channel dies; EINTR at
    /// once if `cancel(id)` came first).
    public func start(id: UInt64, _ op: Opcode, tail: UnsafeRawBufferPointer? = nil,
                      _ body: (inout WireWriter) -> Void, done: @escaping (Reply) -> Void) {
        lock.lock()
        if cancelledEarly.remove(id) != nil { lock.unlock(); return done(Reply(status: 4 /* EINTR */, payload: [])) }
        if dead { lock.unlock(); return done(.eio) }
        pending[id] = done
        lock.unlock()
        if !send(op, id, tail, body) { die() }
    }

    /// Asks the server to stop request `id` (it then answers EINTR). The CANCEL's own
    /// answer is dropped.
    public func cancel(_ id: UInt64) {
        lock.lock()
        let sent = pending[id] != nil
        if sent { cancelled.insert(id) } else { cancelledEarly.insert(id) }
        lock.unlock()
        guard sent else { return }
        _ = send(.cancel, StreamChannel.reserveId(), nil) { CancelRequest(target: id).encode(into: &$0) }
    }

    /// Whether `cancel(id)` was sent for this request (forgotten once asked): a WRITE
    /// answered with a short count after it must not be continued.
    public func wasCancelled(_ id: UInt64) -> Bool { lock.withLock { cancelled.remove(id) != nil } }

    /// Sends a request whose answer nobody waits for (RELEASE).
    public func post(_ op: Opcode, _ body: (inout WireWriter) -> Void) {
        _ = send(op, StreamChannel.reserveId(), nil, body)
    }

    private func send(_ op: Opcode, _ id: UInt64, _ tail: UnsafeRawBufferPointer?,
                      _ body: (inout WireWriter) -> Void) -> Bool {
        var w = WireWriter(capacity: 256)
        FrameHeader(kind: .request, opcode: op.rawValue, id: id, length: 0).encode(into: &w)
        body(&w)
        w.setFrameLength(plus: tail?.count ?? 0)
        return sendLock.withLock { writeFrame(conn.fd, w.bytes, tail, sealed: conn.sealing) }
    }

    private func readLoop() {
        while let (h, payload) = reader.next() {
            if h.kind == .event { onEvent?(h, payload); continue }
            guard h.kind == .response else { continue }
            let done = lock.withLock { pending.removeValue(forKey: h.id) }
            done?(Reply(status: Int32(bitPattern: h.status), payload: payload))
        }
        die()
    }

    /// Fails everything waiting with EIO; the next fifo open dials a new channel.
    public func die() {
        let waiting = lock.withLock { () -> [(Reply) -> Void] in
            if dead { return [] }
            dead = true
            defer { pending = [:] }
            return Array(pending.values)
        }
        conn.shutdownNow()
        waiting.forEach { $0(.eio) }
    }

    private func startReaderThread() throws {
        do { try Threads.start { [self] in readLoop() } } catch let e as Errno {
            throw ConnectError("cannot start the stream reader thread", errno: e.code)
        }
    }
}
