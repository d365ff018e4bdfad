// A mounted export: a pool of connections to one server. Path operations go round-robin;
// operations on a handle go to the connection that opened it (handles are per connection).
#if canImport(Glibc)
import Glibc
#endif
import QtfsAuth
import Logging
import QtfsProtocol
import Synchronization
import QtfsSystem

public final class Session: @unchecked Sendable {
    /// Where and how to (re)connect; kept for reconnects.
    public let address: ServerAddress
    public let hostPath: String
    let clientName: String
    let mountCaller: Caller
    /// hard (wait forever) or soft (give up after a time); set before the first operation.
    public var policy = RetryPolicy.hard
    private let slotLock = Lock()
    private var slots: [Connection]          // protected by slotLock; replaced on reconnect
    /// The export the server numbers the mounted tree with (renumbered on a reconnect).
    let exportId: Atomic<UInt32>
    /// The mounted directory relative to the export root ("" = the export root).
    public let base: [UInt8]
    public let root: Attr
    /// The key every new connection authenticates with (reconnects call
    /// `Connection.handshake(clientName:key:server:)` with it); nil for a --no-auth server.
    public let key: AuthKey?
    /// The next connection a path request goes to (SessionCall.pathConn).
    let next = Atomic<Int>(0)
    private(set) var reconnector: Reconnector!
    /// The slot the reconnect thread is dialling now (-1: none), and whether `close` was
    /// called: read by `health` (SessionHealth.swift).
    let dialing = Atomic<Int>(-1)
    let isClosed = Atomic<Bool>(false)
    /// Streaming writes answered before the server's answer (WriteBehind.swift).
    let writeBehind = WriteBehind()
    /// Connection events (lost, reconnected, renumbered export): the program decides
    /// where they go; this library prints nothing itself.
    public let logger: Logger

    init(_ addr: ServerAddress, hostPath: String, clientName: String, caller: Caller,
         conns: [Connection], mount m: MountReply, key: AuthKey?, logger: Logger) {
        precondition(!conns.isEmpty)
        address = addr; self.hostPath = hostPath; self.clientName = clientName; mountCaller = caller
        self.logger = logger
        slots = conns; exportId = Atomic(m.export); base = m.base; root = m.root; self.key = key
        reconnector = Reconnector(self)
        for c in conns { watch(c) }
    }
    deinit { reconnector.stop() }

    /// The current connections (a dead one stays until it is replaced).
    public var conns: [Connection] { slotLock.withLock { slots } }
    public var export: UInt32 { exportId.load(ordering: .relaxed) }

    /// Connects `count` connections, does the handshake (HELLO, authentication with
    /// `key`) on each and MOUNTs `hostPath`.
    public static func open(_ addr: ServerAddress, hostPath: String, count: Int,
                            caller: Caller, clientName: String = "qtfs-fuse", key: AuthKey? = nil,
                            logger: Logger = Logger(label: "qtfs-client")) throws -> Session {
        var conns: [Connection] = []
        for _ in 0..<max(1, count) { conns.append(try connect(addr, clientName: clientName, key: key, logger: logger)) }
        do {
            let m = try mount(conns[0], hostPath: hostPath, caller: caller)
            return Session(addr, hostPath: hostPath, clientName: clientName, caller: caller, conns: conns, mount: m,
                           key: key, logger: logger)
        } catch {
            conns.forEach { $0.shutdownNow() }
            throw ConnectError(mountHint(error, hostPath, addr), errno: (error as? Errno)?.code ?? LinuxErrno.EIO)
        }
    }

    /// One connection: TCP, then the handshake. Used at mount time and by every reconnect.
    static func connect(_ addr: ServerAddress, clientName: String, key: AuthKey?,
                        timeout: Double? = nil, logger: Logger) throws -> Connection {
        let c = Connection(socket: try Dial.tcp(host: addr.host, port: addr.port, timeout: timeout), logger: logger)
        do { try c.handshake(clientName: clientName, key: key, server: "server \(addr)") } catch {
            c.shutdownNow()
            if error is ConnectError { throw error }   // authentication: says what to do itself
            throw ConnectError("server at \(addr) did not complete HELLO (\(errnoName(error))) — is it a qtfs-server speaking protocol v1?")
        }
        return c
    }

    static func mount(_ c: Connection, hostPath: String, caller: Caller) throws -> MountReply {
        try c.call(.mount) { MountRequest(caller: caller, path: hostPath).encode(into: &$0) }.decode(MountReply.self)
    }

    static func mountHint(_ e: Error, _ path: String, _ addr: ServerAddress) -> String {
        let err = (e as? Errno)?.code ?? LinuxErrno.EIO
        let why: String
        switch err {
        case LinuxErrno.ENOENT: why = "no such directory on the host"
        case LinuxErrno.ENOTDIR: why = "not a directory on the host"
        case LinuxErrno.EACCES, LinuxErrno.EPERM:
            why = "not inside any directory the server exports, or not allowed — export it with `qtfs-server --export \(path)`"
        default: why = errnoName(e)
        }
        return "server \(addr) refused to mount host path \(path): \(why)"
    }

    /// Installs a fresh connection in place of the dead one at `index`.
    func replace(_ index: Int, with c: Connection) {
        watch(c)
        slotLock.withLock { slots[index] = c }
    }

    func adoptExport(_ id: UInt32) { exportId.store(id, ordering: .relaxed) }

    private func watch(_ c: Connection) {
        c.onDeath = { [weak self] _ in self?.reconnector.wake() }
    }

    public func close() {
        isClosed.store(true, ordering: .relaxed)
        reconnector.stop()
        conns.forEach { $0.shutdownNow() }
    }
}

func errnoName(_ e: Error) -> String {
    guard let f = e as? Errno else { return "\(e)" }
    return String(cString: strerror(f.code)).lowercased()
}
