// What qtinfo is told about each connection of a session: its phase and its requests in
// flight, read without the session's or the connection's locks.
import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest
@testable import QtfsClient

final class ConnectionHealthTests: XCTestCase {
    let root = Caller(uid: 0, gid: 0)

    func testPhaseRules() {
        XCTAssertEqual(ConnectionPhase.of(alive: true, peerClosed: false, dialing: false, sessionClosed: false), .active)
        XCTAssertEqual(ConnectionPhase.of(alive: true, peerClosed: true, dialing: false, sessionClosed: false), .closed)
        XCTAssertEqual(ConnectionPhase.of(alive: false, peerClosed: true, dialing: false, sessionClosed: false), .reconnecting)
        XCTAssertEqual(ConnectionPhase.of(alive: false, peerClosed: true, dialing: true, sessionClosed: false), .connecting)
        XCTAssertEqual(ConnectionPhase.of(alive: false, peerClosed: false, dialing: true, sessionClosed: true), .closed)
    }

    func testUnansweredRequestIsInFlightOnItsConnection() throws {
        let srv = ScriptedServer()
        srv.script = { _, _, _ in .silence }
        let s = try Session.open(ServerAddress(host: "127.0.0.1", port: srv.port), hostPath: "/", count: 2, caller: root)
        XCTAssertEqual(s.health.map(\.phase), [.active, .active])
        XCTAssertEqual(s.health.map(\.requestsInFlight), [0, 0])
        let ended = DispatchSemaphore(value: 0)
        Thread { _ = try? s.getattr(self.root, Array("f".utf8)); ended.signal() }.start()
        XCTAssertTrue(eventually { s.health.map(\.requestsInFlight).reduce(0, +) == 1 }, "\(s.health.map(\.requestsInFlight))")
        XCTAssertEqual(s.health.map(\.phase), [.active, .active])
        s.close()
        ended.wait()
        XCTAssertEqual(s.health.map(\.phase), [.closed, .closed])
        XCTAssertEqual(s.health.map(\.requestsInFlight), [0, 0])
    }

    func testIdleConnectionClosedByTheServerShowsClosed() throws {
        let srv = ScriptedServer()
        let attr = srv.encode(AttrReply(attr: Attr(ino: 5)))
        srv.script = { _, _, _ in .replyAndClose(attr) }
        let s = try Session.open(ServerAddress(host: "127.0.0.1", port: srv.port), hostPath: "/", count: 1, caller: root)
        defer { s.close() }
        _ = try s.getattr(root, Array("f".utf8))   // the server then closes the connection
        XCTAssertTrue(eventually { s.health.first?.phase == .closed }, "\(s.health.map(\.phase))")
    }

    func testLostConnectionIsReconnectingWhileTheServerIsDown() throws {
        let srv = ScriptedServer()
        srv.script = { _, _, _ in .drop }
        let s = try Session.open(ServerAddress(host: "127.0.0.1", port: srv.port), hostPath: "/", count: 1, caller: root)
        defer { s.close() }
        shutdown(srv.listenFd, Int32(SHUT_RDWR))   // nobody to reconnect to
        s.policy = .soft(0.3)
        XCTAssertThrowsError(try s.getattr(root, Array("f".utf8)))
        XCTAssertTrue(eventually { s.health.first?.phase == .reconnecting }, "\(s.health.map(\.phase))")
        XCTAssertEqual(s.health.first?.requestsInFlight, 0)
    }
}
