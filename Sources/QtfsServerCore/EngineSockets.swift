// The unix socket bridge, host side (docs/server.md, "Unix socket bridge"): SOCK_CONNECT
// connects to an allowed host socket as the caller, answers, and hands the TCP connection
// with the socket to the relay thread, which carries the data from then on.
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol
import QtfsRelay
internal import CQtfsUring
import QtfsSystem

extension Engine {
    /// One relay thread for every bridged connection of this server process.
    static let relay = RelayLoop(name: "qtfs-server relay")
    /// Pipes passed over bridged sockets, waiting for their data connection.
    static let pipes = PipeMeeting(relay: relay)

    func sockConnect(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let (req, path) = allowedRequest(c, h, payload, SockConnectRequest.self, \.path,
                                               config.unixConnect, "unix_connect") else { return }
        let fd: Int32
        do {
            fd = try Credentials.asCaller(req.caller, squash: false) { try Engine.connectUnix(path, req.socketType) }
        } catch {
            return fail(c, h, (error as? Errno)?.code ?? EIO)
        }
        logger.debug("socket bridge: connected", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)", "seqpacket": "\(req.seqpacket)",
                                                            "files": "\(req.asksForFiles)"])
        handOver(c, local: fd, seqpacket: req.seqpacket, passFiles: req.asksForFiles,
                 answer: Engine.relayAnswer(.sockConnect, h.id, asked: req.asksForFiles))
    }

    /// The answer that starts a relay: empty, or the grant of descriptor passing when asked.
    static func relayAnswer(_ op: Opcode, _ id: UInt64, asked: Bool) -> [UInt8] {
        guard asked else { return FrameHeader.errorFrame(opcode: op.rawValue, id: id, errno: 0) }
        return FrameHeader.frame(kind: .response, opcode: op, id: id, payload: SockGrant(flags: SockConnectRequest.passFiles))
    }

    /// Passed files on the relay of `local`, reopened with the rights of the host process
    /// at its other end.
    func hostFiles(_ local: Int32) -> FdTranslator {
        HostFiles(exports: backend.exports, whitelist: backend.whitelist,
                  receiver: Engine.caller(PeerIdentity(of: local)), pipes: Engine.pipes, logger: logger)
    }

    static func caller(_ p: PeerIdentity) -> Caller {
        Caller(uid: p.uid, gid: p.gid, pid: UInt32(bitPattern: p.pid), groups: Array(p.groups.prefix(Wire.maxGroups)))
    }

    /// The decoded request and its path when the path is in `list` (the setting named
    /// `setting`); otherwise answered (EPROTO/EINVAL, or EACCES with a log line) and nil.
    private func allowedRequest<R: WirePayload>(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer,
                                                _: R.Type, _ pathOf: KeyPath<R, [UInt8]>, _ list: [String],
                                                _ setting: String) -> (R, String)? {
        let req: R
        do { req = try R.decode(payload) } catch { fail(c, h, (error as? WireError)?.errno ?? EPROTO); return nil }
        let path = String(decoding: req[keyPath: pathOf], as: UTF8.self)
        guard Engine.allowed(path, list) else {
            logger.warning("socket bridge: path not allowed (\(setting))", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)"])
            fail(c, h, EACCES)
            return nil
        }
        guard whitelistAllowsSocket(path) else {
            logger.warning("socket bridge: path not in the whitelist's [Udsconnect]", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)"])
            fail(c, h, EACCES)
            return nil
        }
        return (req, path)
    }

    /// With a whitelist, a bridged socket must also lie at or beneath a [Udsconnect] place
    /// (checked on its resolved parent directory, as every whitelist check is). Resolved
    /// with the server's own rights: this thread may still act as an earlier caller.
    private func whitelistAllowsSocket(_ path: String) -> Bool {
        guard let wl = backend.whitelist else { return true }
        guard (try? Credentials.asServer()) != nil else { return false }
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let dir = path[..<slash].isEmpty ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return name.withCString { wl.allows(.udsconnect, dir: fd, name: $0) }
    }

    /// Exact paths, or directories given with a trailing "/" (then anything beneath).
    static func allowed(_ path: String, _ list: [String]) -> Bool {
        guard !path.split(separator: "/").contains("..") else { return false }
        return list.contains { $0.hasSuffix("/") ? path.hasPrefix($0) : path == $0 }
    }

    /// A non-blocking connect (a full backlog answers EAGAIN instead of blocking the loop).
    static func connectUnix(_ path: String, _ type: UInt32) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, Int32(type) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            let src = Array(path.utf8)
            dst.copyBytes(from: src.prefix(dst.count - 1))
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 && errno != EINPROGRESS {
            let e = errno
            close(fd)
            throw Errno(e)
        }
        return fd
    }

    /// Leaves the connection to the relay: the loop forgets it without shutting the socket
    /// down (the relay has its own fd for it), then closes its own fd once no ring op uses it.
    func handOver(_ c: Connection, local: Int32, seqpacket: Bool, passFiles: Bool, answer: [UInt8]) {
        let seal = relaySeal(c)
        guard let (net, leftover) = detach(c) else { close(local); return }
        guard let first = opening(answer, seal) else { close(local); close(net); return }
        Engine.relay.add(local: local, net: net, seqpacket: seqpacket, files: passFiles ? hostFiles(local) : nil,
                         toLocal: leftover, toNet: first, seal: seal)
    }

    /// The relay's sealing on a sealed connection: the connection's sealer and opener go
    /// on in the relay thread; a reset relay is logged here (docs/protocol.md, "Relays on
    /// a sealed connection").
    func relaySeal(_ c: Connection) -> RelaySeal? {
        guard let (sealer, opener) = sealing(of: c) else { return nil }
        let logger = logger
        return RelaySeal(sealer: sealer, opener: opener, peer: "\(c.peer)") { logger.warning("socket bridge: \($0)") }
    }

    /// The answer that starts a relay, sealed as the connection's next frame when it is
    /// sealed; nil (logged) when it cannot be.
    private func opening(_ answer: [UInt8], _ seal: RelaySeal?) -> [UInt8]? {
        guard let seal else { return answer }
        do { return try seal.sealed(frame: answer) } catch {
            logger.warning("socket bridge: cannot seal the answer, closing: \(error)", metadata: ["conn.peer": "\(seal.peer)"])
            return nil
        }
    }

    /// Takes the connection off the loop: a new fd for its socket and the bytes already
    /// received but not parsed; nil when no fd is left.
    func detach(_ c: Connection) -> (Int32, [UInt8])? {
        let b = c.recv
        let leftover = b.unparsed > 0 ? Array(UnsafeRawBufferPointer(start: b.base + b.start, count: b.unparsed)) : []
        b.start = b.end
        let net = dup(c.fd)
        c.enter(.closing)
        conns.removeValue(forKey: c.id)
        stats.set(conns.count)
        cancelStreams(of: c)
        c.handles.closeAll()
        c.dropQueue()
        finishClose(c)
        return net >= 0 ? (net, leftover) : nil
    }
}

/// The socket bridge's listeners and the host connections accepted on them.
final class StreamState {
    var listeners: [SockListener] = []
    /// Host connections accepted on a SOCK_LISTEN socket, waiting for their SOCK_ACCEPT.
    var accepted: [UInt64: (fd: Int32, listener: SockListener)] = [:]
    var nextToken: UInt64 = 1
}

/// A host listening socket serving a DPU socket, owned by the connection that asked.
final class SockListener {
    let conn: Connection
    let fd: Int32
    let path: String
    let seqpacket: Bool
    let passFiles: Bool     // granted at SOCK_LISTEN: every relay of its connections passes files
    init(conn: Connection, fd: Int32, path: String, seqpacket: Bool, passFiles: Bool) {
        self.conn = conn; self.fd = fd; self.path = path; self.seqpacket = seqpacket; self.passFiles = passFiles
    }
}

extension Engine {
    /// Mode of the host socket file: access is decided by its directory and this mode.
    static let listenMode: mode_t = 0o660

    func sockListen(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let (req, path) = allowedRequest(c, h, payload, SockListenRequest.self, \.path,
                                               config.unixListen, "unix_listen") else { return }
        let fd: Int32
        do { try Credentials.asServer(); fd = try Engine.listenUnix(path, req.socketType) } catch {
            return fail(c, h, (error as? Errno)?.code ?? EIO)
        }
        let l = SockListener(conn: c, fd: fd, path: path, seqpacket: req.seqpacket, passFiles: req.asksForFiles)
        streams.listeners.append(l)
        armSockAccept(l)
        logger.info("socket bridge: serving", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)"])
        send(c, OutBuffer(copying: Engine.relayAnswer(.sockListen, h.id, asked: req.asksForFiles)))
    }

    static func listenUnix(_ path: String, _ type: UInt32) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, Int32(type) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var st = stat()
        if lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK { unlink(path) }   // stale
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8).prefix($0.count - 1)) }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        } && chmod(path, listenMode) == 0 && listen(fd, 128) == 0
        if !ok { let e = errno; close(fd); throw Errno(e) }
        return fd
    }

    private func armSockAccept(_ l: SockListener) {
        if !submit(.sockAccept(l.conn, l), { qtfs_uring_accept(ring, l.fd, $0) }) {
            logger.error("socket bridge: cannot arm accept (submission queue full)", metadata: ["path": "\(l.path)"])
        }
    }

    func sockAccepted(_ c: Connection, _ l: SockListener, _ res: Int32) {
        guard !c.closing, streams.listeners.contains(where: { $0 === l }) else {
            if res >= 0 { close(res) }
            return
        }
        if res >= 0 {
            let token = streams.nextToken
            streams.nextToken += 1
            streams.accepted[token] = (res, l)
            let event = SockTokenMessage(token: token)
            send(c, OutBuffer(copying: FrameHeader.frame(kind: .event, opcode: .sockIncoming, id: 0, payload: event)))
        } else {
            logger.warning("socket bridge: accept failed", metadata: ["path": "\(l.path)", "error": "\(String(cString: strerror(-res)))"])
        }
        armSockAccept(l)
    }

    /// SOCK_ACCEPT on a fresh connection: it becomes the relay of that host connection.
    func sockAccept(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let req = try? SockTokenMessage.decode(payload) else { return fail(c, h, EPROTO) }
        if req.token & PassedFile.pipeTokenBit != 0 { return pipeAccept(c, h, req.token) }
        guard let a = streams.accepted.removeValue(forKey: req.token) else { return fail(c, h, ENOENT) }
        handOver(c, local: a.fd, seqpacket: a.listener.seqpacket, passFiles: a.listener.passFiles,
                 answer: FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: 0))
    }

    /// SOCK_ACCEPT of a pipe's token: the connection carries that pipe's data.
    private func pipeAccept(_ c: Connection, _ h: FrameHeader, _ token: UInt64) {
        let seal = relaySeal(c)
        guard let (net, leftover) = detach(c) else { return }
        guard let answer = opening(FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: 0), seal) else { close(net); return }
        if !Engine.pipes.meet(token, net: net, toLocal: leftover, toNet: answer, seal: seal) {
            logger.warning("socket bridge: too many relayed pipes wait for their other half; connection closed", metadata: ["conn.peer": "\(c.peer)"])
        }
    }

    /// The owning connection closed: the host sockets it served go away.
    func closeListeners(of c: Connection) {
        let mine = streams.listeners.filter { $0.conn === c }
        guard !mine.isEmpty else { return }
        streams.listeners.removeAll { $0.conn === c }
        for (token, a) in streams.accepted where a.listener.conn === c {
            close(a.fd)
            streams.accepted[token] = nil
        }
        for l in mine {
            unlink(l.path)
            Glibc.shutdown(l.fd, Int32(SHUT_RDWR))
            close(l.fd)
        }
    }
}
