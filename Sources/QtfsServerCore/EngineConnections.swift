// The engine's connection table: a connection is accepted (limits, admission, socket
// options), closed (its parts let go of it, then its fd once no ring op uses it) or taken
// off the loop for a socket relay or a remote program (`detach`).
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol
import QtfsSystem

extension Engine {
    /// The listening socket's accept completed: a new connection, unless a limit refuses it.
    func accepted(_ fd: Int32) {
        if stopping {
            if fd >= 0 { close(fd) }
            return
        }
        guard fd >= 0 else {
            logger.warning("accept failed", metadata: ["error": "\(String(cString: strerror(-fd)))"])
            // Out of fds: accept would fail again at once; retry in 100 ms instead of spinning.
            if fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM {
                if submit(.acceptRetry, { qtfs_uring_timeout(ring, 100, $0) }) { return }
            }
            return armAccept()
        }
        armAccept()
        let peer = peerName(fd)
        guard conns.count < config.maxConnections else {
            logger.warning("too many connections, refusing", metadata: ["conn.peer": "\(peer)", "limit": "\(config.maxConnections)"])
            close(fd)
            return
        }
        guard gatekeeper.admit(fd, peer, among: conns.values) else { close(fd); return }
        tune(fd)
        let c = Connection(id: nextConn, fd: fd, peer: peer, maxHandles: config.maxHandles)
        nextConn += 1
        conns[c.id] = c
        connRegistry.add(c.cell)
        stats.set(conns.count)
        logger.info("connection opened", metadata: ["conn.peer": "\(peer)", "conn.id": "\(c.id)"])
        io.armRecv(c)
    }

    /// TCP_NODELAY always. Fixed socket buffers turn off the kernel's autotuning, and the
    /// kernel silently caps them at net.core.{w,r}mem_max: so each is set only where that
    /// cap allows the configured size, else autotuning is left alone.
    private func tune(_ fd: Int32) {
        var one: Int32 = 1
        var size = Int32(clamping: config.socketBuffer)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        if config.socketBuffer <= Engine.wmemMax { setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, 4) }
        if config.socketBuffer <= Engine.rmemMax { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
    }

    static let wmemMax = sysctlInt("/proc/sys/net/core/wmem_max")
    static let rmemMax = sysctlInt("/proc/sys/net/core/rmem_max")

    private static func sysctlInt(_ path: String) -> Int {
        Int((readWholeFile(path) ?? "").trimmed.split(separator: "\n").first ?? "") ?? 0
    }

    func closeConnection(_ c: Connection, reason: String) {
        guard !c.closing else { return }
        c.enter(.closing)
        conns.removeValue(forKey: c.id)
        c.cell.state = .closed
        connRegistry.remove(c.id)
        stats.set(conns.count)
        Glibc.shutdown(c.fd, Int32(SHUT_RDWR))   // completes a pending recv/send at once
        cancelStreams(of: c)
        c.handles.closeAll()
        c.wire.dropQueue()
        logger.info("connection closed", metadata: ["conn.peer": "\(c.peer)", "conn.id": "\(c.id)", "reason": "\(reason)"])
        finishClose(c)
    }

    /// Closes the socket once no io_uring op can still use it.
    func finishClose(_ c: Connection) {
        guard c.closing && c.opsInRing == 0 else { return }
        c.closeFd()
        splicer.connectionGone(c)
    }

    /// Takes the connection off the loop: a new fd for its socket and the bytes already
    /// received but not parsed; nil when no fd is left.
    func detach(_ c: Connection) -> (Int32, [UInt8])? {
        let leftover = c.wire.takeUnparsed()
        let net = dup(c.fd)
        c.enter(.closing)
        conns.removeValue(forKey: c.id)
        stats.set(conns.count)
        cancelStreams(of: c)
        c.handles.closeAll()
        c.wire.dropQueue()
        finishClose(c)
        return net >= 0 ? (net, leftover) : nil
    }

    /// The connection is closing: what it waits for on streams is dropped, its reads and
    /// writes on streams (which may wait forever) and its armed polls are cancelled.
    func cancelStreams(of c: Connection) {
        fifos.connectionClosing(c)
        sockets.connectionClosing(c)
        cancelInRing { op in
            switch op {
            case .read(let oc, let r): return oc === c && r.handle.nonSeekable
            case .write(let oc, let w): return oc === c && w.handle.nonSeekable
            case .poll(let oc, _), .fifoIO(let oc, _), .sockAccept(let oc, _): return oc === c
            default: return false
            }
        }
    }

    func peerName(_ fd: Int32) -> String {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) == 0 }
        }
        return ok ? SocketAddress.describe(ss) : "unknown"
    }
}
