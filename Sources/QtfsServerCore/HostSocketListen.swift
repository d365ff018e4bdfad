// The socket part of the engine, SOCK_LISTEN and SOCK_ACCEPT (docs/server.md, "Unix socket
// bridge"): a host listening socket serves a DPU socket; each host connection accepted on
// it waits (`accepted`, by token) until a fresh qtfs connection takes it with SOCK_ACCEPT
// and becomes its relay. A listener goes away with the connection that asked for it.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol
import QtfsRelay
import QtfsSystem

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

extension HostSocketBridge {
    /// Mode of the host socket file: access is decided by its directory and this mode.
    static let listenMode: mode_t = 0o660

    /// SOCK_LISTEN: a host socket at an allowed path, served for the connection's DPU socket.
    func listen(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let (req, path) = allowedRequest(c, h, payload, SockListenRequest.self, \.path,
                                               config.unixListen, "unix_listen") else { return }
        let fd: Int32
        do { try Credentials.asServer(); fd = try HostSocketBridge.listenUnix(path, req.socketType) } catch {
            return engine.fail(c, h, (error as? Errno)?.code ?? EIO)
        }
        let l = SockListener(conn: c, fd: fd, path: path, seqpacket: req.seqpacket, passFiles: req.asksForFiles)
        listeners.append(l)
        armSockAccept(l)
        logger.info("socket bridge: serving", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)"])
        engine.io.send(c, OutBuffer(copying: HostSocketBridge.relayAnswer(.sockListen, h.id, asked: req.asksForFiles)))
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
        } && chmod(path, listenMode) == 0 && Glibc.listen(fd, 128) == 0
        if !ok { let e = errno; close(fd); throw Errno(e) }
        return fd
    }

    private func armSockAccept(_ l: SockListener) {
        if !engine.submit(.sockAccept(l.conn, l), { qtfs_uring_accept(engine.ring, l.fd, $0) }) {
            logger.error("socket bridge: cannot arm accept (submission queue full)", metadata: ["path": "\(l.path)"])
        }
    }

    /// The ring's accept on a listener completed: SOCK_INCOMING tells the client its token.
    func listenerAccepted(_ c: Connection, _ l: SockListener, _ res: Int32) {
        guard !c.closing, listeners.contains(where: { $0 === l }) else {
            if res >= 0 { close(res) }
            return
        }
        if res >= 0 {
            let token = nextToken
            nextToken += 1
            accepted[token] = (res, l)
            let event = SockTokenMessage(token: token)
            engine.io.send(c, OutBuffer(copying: FrameHeader.frame(kind: .event, opcode: .sockIncoming, id: 0, payload: event)))
        } else {
            logger.warning("socket bridge: accept failed", metadata: ["path": "\(l.path)", "error": "\(String(cString: strerror(-res)))"])
        }
        armSockAccept(l)
    }

    /// SOCK_ACCEPT on a fresh connection: it becomes the relay of that host connection.
    func accept(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let req = try? SockTokenMessage.decode(payload) else { return engine.fail(c, h, EPROTO) }
        if req.token & PassedFile.pipeTokenBit != 0 { return pipeAccept(c, h, req.token) }
        guard let a = accepted.removeValue(forKey: req.token) else { return engine.fail(c, h, ENOENT) }
        handOver(c, local: a.fd, seqpacket: a.listener.seqpacket, passFiles: a.listener.passFiles,
                 answer: FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: 0))
    }

    /// SOCK_ACCEPT of a pipe's token: the connection carries that pipe's data.
    private func pipeAccept(_ c: Connection, _ h: FrameHeader, _ token: UInt64) {
        let seal = relaySeal(c)
        guard let (net, leftover) = engine.detach(c) else { return }
        guard let answer = opening(FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: 0), seal) else { close(net); return }
        if !HostSocketBridge.pipes.meet(token, net: net, toLocal: leftover, toNet: answer, seal: seal) {
            logger.warning("socket bridge: too many relayed pipes wait for their other half; connection closed", metadata: ["conn.peer": "\(c.peer)"])
        }
    }

    /// The owning connection closed: the host sockets it served go away.
    func connectionClosing(_ c: Connection) {
        let mine = listeners.filter { $0.conn === c }
        guard !mine.isEmpty else { return }
        listeners.removeAll { $0.conn === c }
        for (token, a) in accepted where a.listener.conn === c {
            close(a.fd)
            accepted[token] = nil
        }
        for l in mine {
            unlink(l.path)
            Glibc.shutdown(l.fd, Int32(SHUT_RDWR))
            close(l.fd)
        }
    }
}
