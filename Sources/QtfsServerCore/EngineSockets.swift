// The unix socket bridge, host side (docs/server.md, "Unix socket bridge"): SOCK_CONNECT
// connects to an allowed host socket as the caller, answers, and hands the TCP connection
// with the socket to the relay thread, which carries the data from then on.
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol
import QtfsRelay

extension Engine {
    /// One relay thread for every bridged connection of this server process.
    static let relay = RelayLoop(name: "qtfs-server relay")

    func sockConnect(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let req: SockConnectRequest
        do { req = try SockConnectRequest.decode(payload) } catch { return fail(c, h, (error as? WireError)?.errno ?? EPROTO) }
        let path = String(decoding: req.path, as: UTF8.self)
        guard Engine.allowed(path, config.unixConnect) else {
            logger.warning("socket bridge: path not allowed (unix_connect)", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)"])
            return fail(c, h, EACCES)
        }
        let fd: Int32
        do {
            fd = try Credentials.asCaller(req.caller, squash: false) { try Engine.connectUnix(path, req.type) }
        } catch {
            return fail(c, h, (error as? FsError)?.errno ?? EIO)
        }
        let answer = FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: 0)
        let seq = req.type == SockConnectRequest.seqpacket
        logger.debug("socket bridge: connected", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)", "seqpacket": "\(seq)"])
        handOver(c, local: fd, seqpacket: seq, answer: answer)
    }

    /// Exact paths, or directories given with a trailing "/" (then anything beneath).
    static func allowed(_ path: String, _ list: [String]) -> Bool {
        guard !path.split(separator: "/").contains("..") else { return false }
        return list.contains { $0.hasSuffix("/") ? path.hasPrefix($0) : path == $0 }
    }

    /// A non-blocking connect (a full backlog answers EAGAIN instead of blocking the loop).
    static func connectUnix(_ path: String, _ type: UInt32) throws -> Int32 {
        let fd = try sys { socket(AF_UNIX, Int32(type) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
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
            throw FsError(e)
        }
        return fd
    }

    /// Leaves the connection to the relay: the loop forgets it without shutting the socket
    /// down (the relay has its own fd for it), then closes its own fd once no ring op uses it.
    private func handOver(_ c: Connection, local: Int32, seqpacket: Bool, answer: [UInt8]) {
        let b = c.recv
        let leftover = b.unparsed > 0 ? Array(UnsafeRawBufferPointer(start: b.base + b.start, count: b.unparsed)) : []
        b.start = b.end
        let net = dup(c.fd)
        c.closing = true
        conns.removeValue(forKey: c.id)
        stats.set(conns.count)
        cancelStreams(of: c)
        c.handles.closeAll()
        c.dropQueue()
        finishClose(c)
        guard net >= 0 else { close(local); return }
        Engine.relay.add(local: local, net: net, seqpacket: seqpacket, toLocal: leftover, toNet: answer)
    }
}
