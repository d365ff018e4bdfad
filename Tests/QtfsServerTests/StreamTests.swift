// Fifos and the stream opcodes against the in-process server with the raw client:
// a waiting open is cancelled (EINTR, fifo let go), POLL pushes POLL_READY, the no-wait
// bit, and SOCK_CONNECT refused where the configuration allows nothing.
import Foundation
import Glibc
import QtfsProtocol
import XCTest

final class StreamTests: ServerTestCase {
    private func mkfifo(_ name: String) { XCTAssertEqual(Glibc.mkfifo(host(name), 0o666), 0) }

    func testCancelledFifoOpenAnswersEINTRAndLetsGo() throws {
        mkfifo("f")
        let c = try client()
        let open = c.newID(), cancel = c.newID()
        try c.sendRaw(c.frame(.open, OpenRequest(caller: .root, target: c.t("f"), flags: UInt32(O_RDONLY)), id: open))
        try c.sendRaw(c.frame(.cancel, CancelRequest(target: open), id: cancel))
        var answers: [UInt64: UInt32] = [:]
        for _ in 0..<2 { let (h, _) = try c.readFrame(); answers[h.id] = h.status }
        XCTAssertEqual(answers[open], UInt32(EINTR), "the waiting open answers EINTR")
        XCTAssertEqual(answers[cancel], 0)
        // The server's read end is closed: a writer finds no reader.
        XCTAssertEqual(Glibc.open(host("f"), O_WRONLY | O_NONBLOCK), -1)
        XCTAssertEqual(errno, ENXIO)
        XCTAssertErrno(ENOENT, try c.expect(.cancel, CancelRequest(target: 999), EmptyReply.self))
    }

    func testWaitingOpenCompletesWhenTheWriterComes() throws {
        mkfifo("f")
        let c = try client()
        let id = c.newID()
        try c.sendRaw(c.frame(.open, OpenRequest(caller: .root, target: c.t("f"), flags: UInt32(O_RDONLY)), id: id))
        let w = Glibc.open(host("f"), O_WRONLY)   // the server's reader is there already
        XCTAssertGreaterThanOrEqual(w, 0)
        defer { close(w) }
        let (h, payload) = try c.readFrame()
        XCTAssertEqual(h.id, id)
        XCTAssertEqual(h.status, 0)
        let handle = try OpenReply.decode(payload).handle
        XCTAssertEqual(Glibc.write(w, "abc", 3), 3)
        XCTAssertEqual(try c.read(handle, 0, 10), Array("abc".utf8))
        XCTAssertErrno(EAGAIN, try c.read(handle, StreamOffset.noWait, 10))
    }

    func testPollPushesReadyEvent() throws {
        mkfifo("f")
        let c = try client()
        let handle = try c.open("f", flags: O_RDONLY | O_NONBLOCK)
        let w = Glibc.open(host("f"), O_WRONLY)
        defer { close(w) }
        let r = try c.expect(.poll, PollRequest(handle: handle, events: UInt32(POLLIN), notify: true), PollReply.self)
        XCTAssertEqual(r.revents & UInt32(POLLIN), 0)
        XCTAssertEqual(Glibc.write(w, "x", 1), 1)
        let (h, payload) = try c.readFrame()
        XCTAssertEqual(h.kind, .event)
        XCTAssertEqual(h.opcode, Opcode.pollReady.rawValue)
        let e = try PollReadyEvent.decode(payload)
        XCTAssertEqual(e.handle, handle)
        XCTAssertNotEqual(e.revents & UInt32(POLLIN), 0)
    }

    func testSockConnectRefusedWhenNotConfigured() throws {
        let c = try client()
        let req = SockConnectRequest(caller: .root, path: Array("/run/anything.sock".utf8), type: SockConnectRequest.stream)
        XCTAssertErrno(EACCES, try c.expect(.sockConnect, req, EmptyReply.self))
        XCTAssertErrno(EACCES, try c.expect(.sockListen, SockListenRequest(path: Array("/tmp/x.sock".utf8), type: 1), EmptyReply.self))
        XCTAssertErrno(ENOENT, try c.expect(.sockAccept, SockTokenMessage(token: 1), EmptyReply.self))
    }
}
