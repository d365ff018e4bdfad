// Session behaviour when connections die: redial + HELLO + MOUNT, replay of safe requests,
// ECONNRESET for unsafe ones, re-opening handles, soft timeouts and interrupts. Runs
// against a scripted TCP server that can drop a connection at any request.
import Foundation
import Glibc
import QtfsProtocol
import XCTest
@testable import QtfsClient

/// A TCP server answering HELLO and MOUNT itself and everything else through `script`.
final class ScriptedServer: @unchecked Sendable {
    enum Action { case reply([UInt8]), replyAndClose([UInt8]), error(Int32), drop, silence }
    let listenFd: Int32
    let port: UInt16
    private let lock = NSLock()
    private var seen: [(Opcode, [UInt8], Int)] = []   // opcode, payload, connection number
    private var accepted = 0
    var script: (Opcode, [UInt8], Int) -> Action = { _, _, _ in .error(LinuxErrno.ENOSYS) }

    init() {
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
        Thread { [self] in acceptLoop() }.start()
    }

    func count(_ op: Opcode) -> Int { lock.withLock { seen.filter { $0.0 == op }.count } }
    func requests(_ op: Opcode) -> [([UInt8], Int)] { lock.withLock { seen.filter { $0.0 == op }.map { ($0.1, $0.2) } } }
    var connections: Int { lock.withLock { accepted } }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFd, nil, nil)
            if fd < 0 { return }
            let n = lock.withLock { accepted += 1; return accepted }
            Thread { [self] in serve(FakePeer(fd: fd), n) }.start()
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

    func encode<P: WirePayload>(_ p: P) -> [UInt8] { var w = WireWriter(); p.encode(into: &w); return w.bytes }
    deinit { close(listenFd) }
}

final class ReconnectTests: XCTestCase {
    let root = Caller(uid: 0, gid: 0)

    func session(_ s: ScriptedServer) throws -> Session {
        try Session.open(ServerAddress(host: "127.0.0.1", port: s.port), hostPath: "/", count: 1, caller: root)
    }

    func testSafeRequestIsSentAgainAfterReconnect() throws {
        let srv = ScriptedServer()
        srv.script = { op, _, conn in conn == 1 ? .drop : .reply(srv.encode(AttrReply(attr: Attr(ino: 5, size: 42)))) }
        let s = try session(srv)
        defer { s.close() }
        let a = try s.getattr(root, Array("f".utf8))
        XCTAssertEqual(a.size, 42)
        XCTAssertEqual(srv.count(.getattr), 2, "lost GETATTR sent again")
        XCTAssertEqual(srv.count(.hello), 2, "handshake redone")
        XCTAssertEqual(srv.count(.mount), 2, "MOUNT redone")
    }

    func testUnsafeRequestFailsWithConnReset() throws {
        let srv = ScriptedServer()
        srv.script = { op, _, conn in op == .mkdir ? .drop : .reply(srv.encode(AttrReply(attr: Attr(ino: 5)))) }
        let s = try session(srv)
        defer { s.close() }
        XCTAssertThrowsError(try s.mkdir(root, Array("d".utf8), mode: 0o755, umask: 0)) {
            XCTAssertEqual($0 as? FSError, FSError(ECONNRESET))
        }
        XCTAssertEqual(srv.count(.mkdir), 1, "MKDIR must not be repeated")
        _ = try s.getattr(root, Array("d".utf8))   // and the session works again
        XCTAssertEqual(srv.connections, 2)
    }

    func testConnectionClosedWhileIdleDoesNotMakeUnsafeRequestsFail() throws {
        let srv = ScriptedServer()
        let attr = srv.encode(AttrReply(attr: Attr(ino: 5)))
        srv.script = { op, _, conn in op == .getattr ? .replyAndClose(attr) : .reply(attr) }
        let s = try session(srv)
        defer { s.close() }
        _ = try s.getattr(root, Array("f".utf8))   // the server then closes the connection
        usleep(100_000)
        _ = try s.mkdir(root, Array("d".utf8), mode: 0o755, umask: 0)
        XCTAssertEqual(srv.requests(.mkdir).map(\.1), [2], "MKDIR sent once, on the new connection")
    }

    func testOpenHandleIsReopenedOnTheNewConnection() throws {
        let srv = ScriptedServer()
        srv.script = { op, payload, conn in
            switch op {
            case .open: return .reply(srv.encode(OpenReply(handle: conn == 1 ? 7 : 9, flags: 0)))
            case .read where conn == 1: return .drop
            case .read:
                let r = try! ReadRequest.decode(payload)
                return r.handle == 9 ? .reply([1, 2, 3]) : .error(LinuxErrno.EBADF)
            default: return .error(LinuxErrno.ENOSYS)
            }
        }
        let s = try session(srv)
        defer { s.close() }
        let (h, _) = try s.open(root, Array("f".utf8), flags: UInt32(O_RDWR | O_CREAT | O_TRUNC))
        h.path = { Array("g".utf8) }   // renamed meanwhile: re-opened where it is now
        XCTAssertEqual(try s.read(h, offset: 0, size: 3), [1, 2, 3])
        let opens = srv.requests(.open)
        XCTAssertEqual(opens.count, 2)
        let again = try OpenRequest.decode(opens[1].0)
        XCTAssertEqual(again.target.path, Array("g".utf8))
        XCTAssertEqual(again.flags, UInt32(O_RDWR), "re-opened without O_CREAT/O_TRUNC")
    }

    func testAppendWriteIsNotRepeated() throws {
        let srv = ScriptedServer()
        srv.script = { op, _, conn in
            op == .open ? .reply(srv.encode(OpenReply(handle: 3, flags: 0))) : (op == .write ? .drop : .error(LinuxErrno.ENOSYS))
        }
        let s = try session(srv)
        defer { s.close() }
        let (h, _) = try s.open(root, Array("log".utf8), flags: UInt32(O_WRONLY | O_APPEND))
        let data: [UInt8] = [1, 2, 3]
        XCTAssertThrowsError(try data.withUnsafeBytes { try s.write(h, offset: 0, data: $0) }) {
            XCTAssertEqual($0 as? FSError, FSError(ECONNRESET))
        }
        XCTAssertEqual(srv.count(.write), 1)
    }

    /// A GETATTR against a server following `script` fails with `errno`.
    private func expectGetattr(fails errno: Int32, _ script: @escaping (Opcode, [UInt8], Int) -> ScriptedServer.Action,
                               _ setup: (ScriptedServer, Session) -> Void) throws {
        let srv = ScriptedServer()
        srv.script = script
        let s = try session(srv)
        defer { s.close() }
        setup(srv, s)
        XCTAssertThrowsError(try s.getattr(root, Array("f".utf8))) { XCTAssertEqual($0 as? FSError, FSError(errno)) }
    }

    func testSoftMountTimesOut() throws {
        try expectGetattr(fails: ETIMEDOUT, { _, _, _ in .silence }) { _, s in s.policy = .soft(0.3) }
    }

    func testSoftMountTimesOutWhileTheServerIsDown() throws {
        try expectGetattr(fails: ETIMEDOUT, { _, _, _ in .drop }) { srv, s in
            shutdown(srv.listenFd, Int32(SHUT_RDWR))   // nobody to reconnect to
            s.policy = .soft(0.5)
        }
    }

    /// Go's runtime signals its threads all the time (SIGURG): an answer that comes soon
    /// after an interrupt is the request's result, not EINTR.
    func testAnAnswerSoonAfterAnInterruptIsKept() throws {
        defer { Interrupts.disarm() }
        try expectGetattr(fails: EACCES, { _, _, _ in usleep(400_000); return .error(EACCES) }) { _, _ in
            let ctx = UInt(bitPattern: Interrupts.arm(token: 78))
            Thread { usleep(100_000); Interrupts.fire(UnsafeMutableRawPointer(bitPattern: ctx)!, token: 78) }.start()
        }
    }

    func testInterruptEndsAHardWait() throws {
        defer { Interrupts.disarm() }
        try expectGetattr(fails: EINTR, { _, _, _ in .silence }) { _, _ in
            let ctx = UInt(bitPattern: Interrupts.arm(token: 77))
            Thread {
                let p = UnsafeMutableRawPointer(bitPattern: ctx)!
                usleep(200_000); Interrupts.fire(p, token: 66)   // another request's: ignored
                usleep(100_000); Interrupts.fire(p, token: 77)
            }.start()
        }
    }
}
