// connect(2) and bind(2) of AF_UNIX sockets at paths under a qtfs mount reach the host.
// The caller's own socket is kept (same descriptor, same open file, so its flags and any
// epoll registration stay): connect joins it to a private rendezvous socket of ours whose
// other end is relayed to the host socket; bind binds it to a private path and asks the
// server to listen at the host path and hand each host connection over to it.
import CQtfsSys
import Glibc
import QtfsClient
import QtfsProtocol
import QtfsSystem

struct SocketCalls {
    let trap: Trap
    let server: ServerAddress
    let rendezvous: Rendezvous

    func connect() throws -> Answer {
        guard let (path, socket) = try unixSocket() else { return .runLocally }
        defer { close(socket.fd) }
        guard case .host(let hostPath, _) = try place(path, .follow) else { return .runLocally }
        let caller = try trap.caller.caller()
        guard trap.stillWaiting else { return .fail(EINTR) }
        if let answer = connectOnThisSide(socket, hostPath) { return answer }
        Log.call("connect to host \(hostPath) for pid \(trap.notif.pid)")
        let link: RelayLink
        do {
            link = try SocketBridge.dialHost(server, BridgeSpec(localPath: "", hostPath: hostPath, seqpacket: socket.seqpacket), caller: caller)
        } catch let e as Errno {
            return .fail(e.code)
        } catch let e as ConnectError {
            Log.error("connect to host \(hostPath) for pid \(trap.notif.pid): \(e)")
            return .fail(ECONNREFUSED)
        }
        do {
            let mine = try rendezvous.join(socket)
            // Our end was connected by us: the caller's own ids say whose rights a passed
            // file is opened with.
            SocketBridge.relay.add(local: mine, net: link.fd, seqpacket: socket.seqpacket,
                                   files: link.passFiles ? DPUFiles(server: server, receiver: caller) { Log.error($0) } : nil,
                                   seal: link.seal)
            return .value(0)
        } catch let e as Errno {
            close(link.fd)
            return .fail(e.code)
        }
    }

    func bind() throws -> Answer {
        guard let (path, socket) = try unixSocket() else { return .runLocally }
        defer { close(socket.fd) }
        guard case .host(let hostPath, _) = try place(path, .create) else { return .runLocally }
        guard trap.stillWaiting else { return .fail(EINTR) }
        Log.call("bind host \(hostPath) for pid \(trap.notif.pid)")
        let local = try rendezvous.bindPrivately(socket)
        do {
            let serve = try SocketServe(BridgeSpec(localPath: local, hostPath: hostPath, seqpacket: socket.seqpacket), server: server)
            rendezvous.keep(serve)
            LocalListeners.add(privatePath: local, hostPath: hostPath, server: server)
            waitUntilVisible(path)
            return .value(0)
        } catch let e as ConnectError {
            Log.error("bind of host \(hostPath) for pid \(trap.notif.pid): \(e)")
            return .fail(e.errno)
        }
    }

    /// A host path that a process on this side listens at (under a qtfs-run): the caller's
    /// socket is connected to that listener directly instead of through the host and back.
    /// Nil: no such listener (an entry nothing answers at is dropped), go to the host.
    private func connectOnThisSide(_ socket: CallerSocket, _ hostPath: String) -> Answer? {
        guard let local = LocalListeners.privatePath(for: hostPath, server: server) else { return nil }
        if UnixAddress.connect(socket.fd, local) == 0 {
            Log.call("connect to \(hostPath) for pid \(trap.notif.pid): its listener is on this side (\(local))")
            return .value(0)
        }
        switch errno {
        case EAGAIN, EINPROGRESS: return .fail(EAGAIN)   // its backlog is full, as for a local socket
        case ECONNREFUSED, ENOENT: LocalListeners.remove(hostPath, server: server)
        default: break
        }
        return nil
    }

    /// The socket file now exists on the host, but the caller's kernel may still hold the
    /// name as absent (a negative entry, cached for the mount's entry_timeout, 1 s by
    /// default): a daemon that chmods its socket right after bind would get ENOENT. So
    /// bind returns once the caller sees the name, or after 3 s.
    private func waitUntilVisible(_ path: [UInt8]) {
        let translator = PathTranslator(caller: trap.caller, server: server)
        for _ in 0..<150 {
            if translator.exists(path) { return }
            usleep(20_000)
        }
    }

    private func place(_ path: [UInt8], _ last: PathTranslator.Last) throws -> Place {
        try PathTranslator(caller: trap.caller, server: server).place(of: path, last: last)
    }

    /// Whether the call's address may be an AF_UNIX path (then it needs the full treatment);
    /// false for every other address, read from the caller without waiting on anything.
    static func mayNameUnixPath(_ trap: Trap) -> Bool {
        let length = Int(trap.arg(2))
        guard length > 2, length <= MemoryLayout<sockaddr_un>.size else { return false }
        guard let head = try? trap.caller.bytes(at: trap.arg(1), count: 3) else { return true }   // EFAULT: answered there
        return UInt16(head[0]) | UInt16(head[1]) << 8 == UInt16(AF_UNIX) && head[2] != 0
    }

    /// The path of a named AF_UNIX address and a duplicate of the caller's socket, for
    /// stream and seqpacket sockets; nil for anything else (abstract, unnamed, datagram).
    private func unixSocket() throws -> ([UInt8], CallerSocket)? {
        let length = Int(trap.arg(2))
        guard length > 2, length <= MemoryLayout<sockaddr_un>.size else { return nil }
        let addr = try trap.caller.bytes(at: trap.arg(1), count: length)
        guard UInt16(addr[0]) | UInt16(addr[1]) << 8 == UInt16(AF_UNIX), addr[2] != 0 else { return nil }
        let path = Array(addr[2...].prefix { $0 != 0 })
        guard let fd = try? trap.caller.descriptor(Int32(truncatingIfNeeded: trap.arg(0))) else { return nil }
        guard let socket = CallerSocket(fd) else { close(fd); return nil }
        return (path, socket)
    }
}

/// A duplicate of a caller's unix stream or seqpacket socket.
struct CallerSocket {
    let fd: Int32
    let type: Int32
    var seqpacket: Bool { type == Int32(SOCK_SEQPACKET.rawValue) }

    init?(_ fd: Int32) {
        var domain: Int32 = 0, type: Int32 = 0
        var len = socklen_t(4)
        guard getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0, domain == AF_UNIX,
              getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0,
              type == Int32(SOCK_STREAM.rawValue) || type == Int32(SOCK_SEQPACKET.rawValue) else { return nil }
        self.fd = fd; self.type = type
    }
}
