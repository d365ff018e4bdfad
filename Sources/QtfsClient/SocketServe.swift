// The unix socket bridge, host -> DPU (docs/client.md, "Unix sockets"): the server listens
// at a host path for us (SOCK_LISTEN on a connection of our own); for each host process
// that connects, a SOCK_INCOMING event arrives, we connect to the DPU socket and claim the
// host connection on a fresh qtfs connection (SOCK_ACCEPT), then the relay carries it.
#if canImport(Glibc)
import Glibc
#endif
import CQtfsSys
import Logging
import QtfsProtocol
import QtfsRelay

public final class SocketServe: @unchecked Sendable {
    let spec: BridgeSpec   // localPath: the DPU socket; hostPath: where host processes connect
    let server: ServerAddress
    let logger: Logger
    private let control: StreamChannel
    /// Granted at SOCK_LISTEN: the relays of this socket's connections pass files.
    private var passFiles = false

    /// Asks the server to listen at `spec.hostPath`; throws what it answered.
    public init(_ spec: BridgeSpec, server: ServerAddress, logger: Logger = Logger(label: "qtfs-client")) throws {
        self.spec = spec; self.server = server; self.logger = logger
        control = try StreamChannel(server, clientName: "qtfs-fuse-serve")
        let answer = Mailbox()
        let asked = control.serverCapabilities & HelloReply.capSockFiles != 0
        let type = (spec.seqpacket ? SockConnectRequest.seqpacket : SockConnectRequest.stream) | (asked ? SockConnectRequest.passFiles : 0)
        control.start(id: StreamChannel.reserveId(), .sockListen, {
            SockListenRequest(path: Array(spec.hostPath.utf8), type: type).encode(into: &$0)
        }, done: { answer.put($0) })
        let r = answer.take()
        guard r.status == 0 else {
            control.die()
            throw ConnectError("socket bridge: server refused to listen at \(spec.hostPath): \(String(cString: strerror(r.status)))"
                               + (r.status == LinuxErrno.EACCES ? " — allow it with unix_listen in the server's configuration" : ""),
                               errno: r.status)
        }
        passFiles = asked && ((try? SockGrant.decode(r.payload))?.passesFiles ?? false)
        control.onEvent = { [self] h, payload in
            guard h.opcode == Opcode.sockIncoming.rawValue, let m = try? SockTokenMessage.decode(payload) else { return }
            incoming(m.token)
        }
    }

    public func stop() { control.die() }

    /// Runs on the control channel's reader thread; setting up one connection is a local
    /// connect and one dial, so incoming connections are handled in order.
    private func incoming(_ token: UInt64) {
        let type = spec.seqpacket ? Int32(SOCK_SEQPACKET.rawValue) : Int32(SOCK_STREAM.rawValue)
        let local = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        let connected = local >= 0 && UnixAddress.with(spec.localPath) { connect(local, $0, $1) == 0 }
        do {
            let link = try SocketBridge.claim(server, token)
            if connected {
                SocketBridge.relay.add(local: local, net: link.fd, seqpacket: spec.seqpacket,
                                       files: passFiles ? SocketBridge.files(server, receiver: PeerIdentity(of: local), logger) : nil,
                                       seal: link.seal)
                return
            }
            close(link.fd)   // the host process sees the connection closed
            logger.error("socket bridge \(spec.hostPath) -> \(spec.localPath): cannot connect to \(spec.localPath): \(String(cString: strerror(errno)))")
        } catch {
            logger.error("socket bridge \(spec.hostPath) -> \(spec.localPath): \(error)")
        }
        if local >= 0 { close(local) }
    }

}

/// One value handed from one thread to another.
final class Mailbox: @unchecked Sendable {
    private let m = Lock()
    private let cond = Condition()
    private var value: Reply?
    func put(_ r: Reply) { m.withLock { value = r; cond.signal() } }
    func take() -> Reply {
        m.lock(); defer { m.unlock() }
        while value == nil { cond.wait(m) }
        return value!
    }
}
