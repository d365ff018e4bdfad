// Session behaviour when connections die: redial + HELLO + MOUNT, replay of safe requests,
// ECONNRESET for unsafe ones, re-opening handles, soft timeouts and interrupts. Runs
// against a scripted TCP server that can drop a connection at any request.
import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest
import QtfsSystem
@testable import QtfsClient

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
            XCTAssertEqual($0 as? Errno, Errno(ECONNRESET))
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
            XCTAssertEqual($0 as? Errno, Errno(ECONNRESET))
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
        XCTAssertThrowsError(try s.getattr(root, Array("f".utf8))) { XCTAssertEqual($0 as? Errno, Errno(errno)) }
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
