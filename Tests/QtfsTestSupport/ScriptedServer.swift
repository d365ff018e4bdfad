// A fake qtfs server over TCP on loopback: HELLO and MOUNT answered, every other request
// answered by the test's script, which may also drop the connection or stay silent.
import Glibc
import QtfsProtocol
import QtfsSystem

/// A TCP server answering HELLO and MOUNT itself and everything else through `script`.
public final class ScriptedServer: @unchecked Sendable {
    public enum Action { case reply([UInt8]), replyAndClose([UInt8]), error(Int32), drop, silence }
    public let listenFd: Int32
    public let port: UInt16
    private let lock = Lock()
    private var seen: [(Opcode, [UInt8], Int)] = []   // opcode, payload, connection number
    private var accepted = 0
    public var script: (Opcode, [UInt8], Int) -> Action = { _, _, _ in .error(LinuxErrno.ENOSYS) }

    public init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                precondition(bind(fd, $0, len) == 0)
                precondition(getsockname(fd, $0, &len) == 0)
            }
        }
        listenFd = fd
        port = UInt16(bigEndian: a.sin_port)
        listen(fd, 16)
        try! Threads.start { [self] in acceptLoop() }
    }

    public func count(_ op: Opcode) -> Int { lock.withLock { seen.filter { $0.0 == op }.count } }
    public func requests(_ op: Opcode) -> [([UInt8], Int)] { lock.withLock { seen.filter { $0.0 == op }.map { ($0.1, $0.2) } } }
    public var connections: Int { lock.withLock { accepted } }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFd, nil, nil)
            if fd < 0 { return }
            let n = lock.withLock { accepted += 1; return accepted }
            try! Threads.start { [self] in serve(FakePeer(fd: fd), n) }
        }
    }

    private func serve(_ peer: FakePeer, _ n: Int) {
        defer { peer.close() }
        while let (h, payload) = peer.readRequest() {
            guard let op = Opcode(rawValue: h.opcode) else { return }
            lock.withLock { seen.append((op, payload, n)) }
            let action: Action
            switch op {
            case .hello: action = .reply(encode(HelloReply(serverName: "scripted")))
            case .mount: action = .reply(encode(MountReply(export: 1, base: "", root: Attr(ino: 1, mode: 0o40755))))
            case .release, .releasedir: action = .reply([])
            default: action = script(op, payload, n)
            }
            switch action {
            case .reply(let p): peer.send(FakePeer.response(h.opcode, id: h.id, payload: p))
            case .replyAndClose(let p): peer.send(FakePeer.response(h.opcode, id: h.id, payload: p)); return
            case .error(let e): peer.send(FakePeer.response(h.opcode, id: h.id, status: UInt32(e), payload: []))
            case .drop: return
            case .silence: continue
            }
        }
    }

    public func encode<P: WirePayload>(_ p: P) -> [UInt8] { var w = WireWriter(); p.encode(into: &w); return w.bytes }
    deinit { close(listenFd) }
}
