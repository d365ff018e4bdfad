// The socket part of the engine: the unix socket bridge, host side (docs/server.md, "Unix
// socket bridge"). SOCK_CONNECT connects to an allowed host socket as the caller, answers,
// and hands the TCP connection with the socket to the relay thread, which carries the data
// from then on. It owns the host listening sockets of SOCK_LISTEN, the host connections
// accepted on them until their SOCK_ACCEPT, and the relay thread (HostSocketListen.swift).
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol
import QtfsRelay
internal import CQtfsUring
import QtfsSystem

final class HostSocketBridge {
    /// One relay thread for every bridged connection of this server process.
    static let relay = RelayLoop(name: "qtfs-server relay")
    /// Pipes passed over bridged sockets, waiting for their data connection.
    static let pipes = PipeMeeting(relay: relay)

    /// The host sockets served for DPU sockets (SOCK_LISTEN), each owned by its connection.
    var listeners: [SockListener] = []
    /// Host connections accepted on a SOCK_LISTEN socket, waiting for their SOCK_ACCEPT.
    var accepted: [UInt64: (fd: Int32, listener: SockListener)] = [:]
    var nextToken: UInt64 = 1

    unowned(unsafe) let engine: Engine   // the engine owns this part (Engine.swift, "parts")
    let logger: Logger
    var config: ServerConfig { engine.config }

    init(engine: Engine, logger: Logger) { self.engine = engine; self.logger = logger }

    /// SOCK_CONNECT: the connection becomes the relay of a new host socket connection.
    func connect(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let (req, path) = allowedRequest(c, h, payload, SockConnectRequest.self, \.path,
                                               config.unixConnect, "unix_connect") else { return }
        let fd: Int32
        do {
            fd = try Credentials.asCaller(req.caller, squash: false) { try HostSocketBridge.connectUnix(path, req.socketType) }
        } catch {
            return engine.fail(c, h, (error as? Errno)?.code ?? EIO)
        }
        logger.debug("socket bridge: connected", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)", "seqpacket": "\(req.seqpacket)",
                                                            "files": "\(req.asksForFiles)"])
        handOver(c, local: fd, seqpacket: req.seqpacket, passFiles: req.asksForFiles,
                 answer: HostSocketBridge.relayAnswer(.sockConnect, h.id, asked: req.asksForFiles))
    }

    /// The answer that starts a relay: empty, or the grant of descriptor passing when asked.
    static func relayAnswer(_ op: Opcode, _ id: UInt64, asked: Bool) -> [UInt8] {
        guard asked else { return FrameHeader.errorFrame(opcode: op.rawValue, id: id, errno: 0) }
        return FrameHeader.frame(kind: .response, opcode: op, id: id, payload: SockGrant(flags: SockConnectRequest.passFiles))
    }

    /// Passed files on the relay of `local`, reopened with the rights of the host process
    /// at its other end.
    private func hostFiles(_ local: Int32) -> FdTranslator {
        HostFiles(exports: engine.backend.exports, whitelist: engine.backend.whitelist,
                  receiver: HostSocketBridge.caller(PeerIdentity(of: local)), pipes: HostSocketBridge.pipes, logger: logger)
    }

    static func caller(_ p: PeerIdentity) -> Caller {
        Caller(uid: p.uid, gid: p.gid, pid: UInt32(bitPattern: p.pid), groups: Array(p.groups.prefix(Wire.maxGroups)))
    }

    /// The decoded request and its path when the path is in `list` (the setting named
    /// `setting`); otherwise answered (EPROTO/EINVAL, or EACCES with a log line) and nil.
    func allowedRequest<R: WirePayload>(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer,
                                                _: R.Type, _ pathOf: KeyPath<R, [UInt8]>, _ list: [String],
                                                _ setting: String) -> (R, String)? {
        let req: R
        do { req = try R.decode(payload) } catch { engine.fail(c, h, (error as? WireError)?.errno ?? EPROTO); return nil }
        let path = String(decoding: req[keyPath: pathOf], as: UTF8.self)
        guard HostSocketBridge.allowed(path, list) else {
            logger.warning("socket bridge: path not allowed (\(setting))", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)"])
            engine.fail(c, h, EACCES)
            return nil
        }
        guard whitelistAllowsSocket(path) else {
            logger.warning("socket bridge: path not in the whitelist's [Udsconnect]", metadata: ["conn.peer": "\(c.peer)", "path": "\(path)"])
            engine.fail(c, h, EACCES)
            return nil
        }
        return (req, path)
    }

    /// With a whitelist, a bridged socket must also lie at or beneath a [Udsconnect] place
    /// (checked on its resolved parent directory, as every whitelist check is). Resolved
    /// with the server's own rights: this thread may still act as an earlier caller.
    private func whitelistAllowsSocket(_ path: String) -> Bool {
        guard let wl = engine.backend.whitelist else { return true }
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
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
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
        guard let (net, leftover) = engine.detach(c) else { close(local); return }
        guard let first = opening(answer, seal) else { close(local); close(net); return }
        HostSocketBridge.relay.add(local: local, net: net, seqpacket: seqpacket, files: passFiles ? hostFiles(local) : nil,
                         toLocal: leftover, toNet: first, seal: seal)
    }

    /// The relay's sealing on a sealed connection: the connection's sealer and opener go
    /// on in the relay thread; a reset relay is logged here (docs/protocol.md, "Relays on
    /// a sealed connection").
    func relaySeal(_ c: Connection) -> RelaySeal? {
        guard let (sealer, opener) = engine.gatekeeper.sealing(of: c) else { return nil }
        let logger = logger
        return RelaySeal(sealer: sealer, opener: opener, peer: "\(c.peer)") { logger.warning("socket bridge: \($0)") }
    }

    /// The answer that starts a relay, sealed as the connection's next frame when it is
    /// sealed; nil (logged) when it cannot be.
    func opening(_ answer: [UInt8], _ seal: RelaySeal?) -> [UInt8]? {
        guard let seal else { return answer }
        do { return try seal.sealed(frame: answer) } catch {
            logger.warning("socket bridge: cannot seal the answer, closing: \(error)", metadata: ["conn.peer": "\(seal.peer)"])
            return nil
        }
    }
}
