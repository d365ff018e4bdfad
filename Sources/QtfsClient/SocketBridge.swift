// The unix socket bridge, DPU side (docs/client.md, "Unix sockets"): a local listening
// socket at the path applications use; each connection accepted there gets its own qtfs
// connection (same dial and HELLO as the file system's), SOCK_CONNECT to the host socket
// as the connecting process's uid/gid, then the relay thread carries the data.
#if canImport(Glibc)
import Glibc
#endif
import CQtfsSys
import Logging
import QtfsAuth
import QtfsProtocol
import QtfsRelay
import QtfsSystem

/// One bridged path: DPU `localPath` -> host `hostPath`.
public struct BridgeSpec: Equatable, Sendable {
    public var localPath: String
    public var hostPath: String
    public var seqpacket: Bool
    public init(localPath: String, hostPath: String, seqpacket: Bool) {
        self.localPath = localPath; self.hostPath = hostPath; self.seqpacket = seqpacket
    }

    /// "LOCAL:HOST" or "LOCAL:HOST:seqpacket" (both absolute, at most 107 bytes).
    public static func parse(_ s: String) -> BridgeSpec? {
        let p = s.split(separator: ":").map(String.init)
        guard p.count == 2 || (p.count == 3 && (p[2] == "seqpacket" || p[2] == "stream")),
              p[0].hasPrefix("/"), p[1].hasPrefix("/"), p[0].utf8.count <= 107, p[1].utf8.count <= 107 else { return nil }
        return BridgeSpec(localPath: p[0], hostPath: p[1], seqpacket: p.count == 3 && p[2] == "seqpacket")
    }
}

/// A qtfs connection that relays a unix socket, whether files pass over it, and its
/// sealing when the connection is sealed (the relay's frames go on with its counters).
public struct RelayLink: Sendable {
    public let fd: Int32
    public let passFiles: Bool
    public let seal: RelaySeal?
}

public final class SocketBridge: @unchecked Sendable {
    public static let relay = RelayLoop(name: "qtfs-fuse relay")
    let spec: BridgeSpec
    let server: ServerAddress
    let logger: Logger
    private let listenFd: Int32

    /// Binds the local socket (replacing a stale socket file there) and starts accepting.
    public init(_ spec: BridgeSpec, server: ServerAddress, logger: Logger = Logger(label: "qtfs-client")) throws {
        self.spec = spec; self.server = server; self.logger = logger
        let type = spec.seqpacket ? Int32(SOCK_SEQPACKET.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConnectError("socket bridge: cannot create a unix socket: \(String(cString: strerror(errno)))") }
        var st = stat()
        if lstat(spec.localPath, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK { unlink(spec.localPath) }
        let ok = UnixAddress.with(spec.localPath) { bind(fd, $0, $1) == 0 } && listen(fd, 128) == 0
        guard ok else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw ConnectError("socket bridge: cannot listen on \(spec.localPath): \(e) — is the path free and its directory there?")
        }
        listenFd = fd
        try startAcceptThread()
    }

    /// Stops listening and removes the socket file.
    public func stop() {
        shutdown(listenFd, Int32(SHUT_RDWR))
        unlink(spec.localPath)
    }

    private func acceptLoop() {
        while true {
            let app: Int32
            do { app = try sys("accept") { accept(listenFd, nil, nil) } } catch let e as Errno where e.code == ECONNABORTED {
                continue
            } catch { return }   // the listening socket was shut down
            _ = fcntl(app, F_SETFD, FD_CLOEXEC)
            do {
                let link = try SocketBridge.dialHost(server, spec, caller: SocketBridge.peerCaller(app))
                SocketBridge.relay.add(local: app, net: link.fd, seqpacket: spec.seqpacket,
                                       files: link.passFiles ? SocketBridge.files(server, receiver: PeerIdentity(of: app), logger) : nil,
                                       seal: link.seal)
            } catch {
                logger.error("socket bridge \(spec.localPath) -> \(spec.hostPath): \(error)")
                close(app)   // the application sees the connection closed at once
            }
        }
    }

    /// A qtfs connection in relay mode to the host socket, passing files when the server can.
    public static func dialHost(_ server: ServerAddress, _ spec: BridgeSpec, caller: Caller) throws -> RelayLink {
        let type = spec.seqpacket ? SockConnectRequest.seqpacket : SockConnectRequest.stream
        return try dialRelay(server, .sockConnect) { w, takesFiles in
            let flag = takesFiles ? SockConnectRequest.passFiles : 0
            SockConnectRequest(caller: caller, path: Array(spec.hostPath.utf8), type: type | flag).encode(into: &w)
            return takesFiles
        }
    }

    /// HELLO, then `op` (SOCK_CONNECT or SOCK_ACCEPT) built by `body`, told whether the
    /// server takes passed files and answering whether it asked for them. Reads only the
    /// answer (header, and the grant when asked), so data the host sends right after stays
    /// in the socket for the relay. On a sealed connection the request and the answer are
    /// sealed frames, and the relay goes on sealing with the connection's counters.
    static func dialRelay(_ server: ServerAddress, _ op: Opcode, _ body: (inout WireWriter, Bool) -> Bool) throws -> RelayLink {
        let conn = Connection(socket: try Dial.tcp(host: server.host, port: server.port))
        try conn.handshake(clientName: "qtfs-fuse-bridge")
        var w = WireWriter(capacity: 256)
        FrameHeader(kind: .request, opcode: op.rawValue, id: 1, length: 0).encode(into: &w)
        let asked = body(&w, (conn.hello?.capabilities ?? 0) & HelloReply.capSockFiles != 0)
        w.setFrameLength()
        guard writeFrame(conn.fd, w.bytes, nil, sealed: conn.sealing) else { throw Errno(LinuxErrno.EIO) }
        let (h, payload) = try answer(conn, server)
        guard h.status == 0 else { throw Errno(Int32(bitPattern: h.status)) }
        // A grant is 4 bytes; an answer to a request that did not ask is empty.
        guard asked == (h.length == 4), h.length == 0 || h.length == 4 else { throw Errno(LinuxErrno.EPROTO) }
        let granted = asked ? try SockGrant.decode(payload).passesFiles : false
        let net = dup(conn.fd)   // `conn` closes its own fd when it goes
        guard net >= 0 else { throw Errno(LinuxErrno.EIO) }
        let seal = conn.sealing.map { RelaySeal(sealer: $0.sealer, opener: $0.opener, peer: "\(server)", log: Sys.printError) }
        return RelayLink(fd: net, passFiles: granted, seal: seal)
    }

    /// Exactly the answer to the relay's request (its header and `length` bytes, at most
    /// a grant), opened on a sealed connection.
    private static func answer(_ conn: Connection, _ server: ServerAddress) throws -> (FrameHeader, [UInt8]) {
        var head = try receiveExactly(conn.fd, Wire.headerSize)
        let tag = conn.sealing == nil ? 0 : Sealed.tagSize
        guard var h = try? head.withUnsafeBytes({ try FrameHeader.decode($0, maxLength: 4 + tag) }), h.length >= tag else {
            throw Errno(LinuxErrno.EPROTO)
        }
        var body = try receiveExactly(conn.fd, Int(h.length))
        guard let opener = conn.sealing?.opener else { return (h, body) }
        do {
            let n = try head.withUnsafeMutableBytes { hb in try body.withUnsafeMutableBytes { try opener.open(header: hb, body: $0) } }
            h.length = UInt32(n)
            return (h, Array(body.prefix(n)))
        } catch {
            throw ConnectError("socket bridge: the answer from \(server) failed to open (\(error)): the connection was tampered with; closed it")
        }
    }

    /// A qtfs connection in relay mode for `token`: an accepted host connection
    /// (SOCK_INCOMING) or a relayed pipe.
    static func claim(_ server: ServerAddress, _ token: UInt64) throws -> RelayLink {
        try dialRelay(server, .sockAccept) { w, _ in SockTokenMessage(token: token).encode(into: &w); return false }
    }

    private static func receiveExactly(_ fd: Int32, _ count: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buf.withUnsafeMutableBytes { SocketIO.recvSome(fd, $0.baseAddress! + got, $0.count - got) }
            guard n > 0 else { throw Errno(LinuxErrno.EIO) }
            got += n
        }
        return buf
    }

    /// Passed files on a relay whose local end is `receiver`; refusals are logged.
    public static func files(_ server: ServerAddress, receiver: PeerIdentity, _ logger: Logger) -> FdTranslator {
        DPUFiles(server: server, receiver: receiver) { logger.warning("\($0)") }
    }

    /// The connecting process's ids (SO_PEERCRED): the host socket is reached as them.
    static func peerCaller(_ fd: Int32) -> Caller {
        var uid: UInt32 = 65534, gid: UInt32 = 65534, pid: Int32 = 0
        _ = qtfs_peer_cred(fd, &uid, &gid, &pid)   // on failure: nobody
        return Caller(uid: uid, gid: gid, pid: UInt32(bitPattern: pid))
    }

    private func startAcceptThread() throws {
        guard (try? Threads.start { [self] in acceptLoop() }) != nil else {
            throw ConnectError("socket bridge: cannot start the accept thread")
        }
    }
}

public enum UnixAddress {
    /// bind(2) and connect(2) of `fd` to the unix socket `path`: 0, or -1 with errno.
    public static func bind(_ fd: Int32, _ path: String) -> Int32 { with(path) { Glibc.bind(fd, $0, $1) } }
    public static func connect(_ fd: Int32, _ path: String) -> Int32 { with(path) { Glibc.connect(fd, $0, $1) } }

    /// Calls `body` with a sockaddr_un for `path`.
    static func with<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in dst.copyBytes(from: Array(path.utf8).prefix(dst.count - 1)) }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
