import Glibc
import XCTest
import QtfsProtocol
@testable import QtfsRexec

/// The credit rules of remote exec's streams, over a real socketpair and pipes.
final class StreamPumpTests: XCTestCase {
    func channels() -> (FrameChannel, FrameChannel) {
        var sv: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv), 0)
        return (FrameChannel(fd: sv[0]), FrameChannel(fd: sv[1]))
    }

    func pipeFds() -> (Int32, Int32) {
        var p: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&p), 0)
        return (p[0], p[1])
    }

    /// Pumps `from` until nothing more is sent, delivering every frame to `to`.
    func frames(_ from: FrameChannel, _ to: FrameChannel) throws -> [(FrameHeader, [UInt8])] {
        try from.flush()
        XCTAssertEqual(from.pendingOutput, 0)
        _ = try to.receive()
        var out: [(FrameHeader, [UInt8])] = []
        while let f = try to.nextFrame() { out.append(f) }
        return out
    }

    func testOutgoingStopsAtTheWindowAndResumesWithCredit() throws {
        let (a, b) = channels()
        let (r, w) = pipeFds()
        defer { close(r); close(w) }
        let out = OutgoingStream(fd: r, stream: Rexec.stdout)
        let chunk = [UInt8](repeating: 7, count: 64 << 10)
        var sent = 0
        while out.wantsInput(a) {
            _ = chunk.withUnsafeBytes { write(w, $0.baseAddress, $0.count) }
            out.pump(a)
            sent = Rexec.window - out.credit
            _ = try frames(a, b)
        }
        XCTAssertEqual(sent, Rexec.window, "sent exactly one window before waiting for credit")
        XCTAssertFalse(out.credited(UInt32(Rexec.window) + 1), "credit beyond what was sent is refused")
        XCTAssertTrue(out.credited(UInt32(chunk.count)))
        XCTAssertTrue(out.wantsInput(a))
    }

    func testOutgoingSendsEndOfStreamOnce() throws {
        let (a, b) = channels()
        let (r, w) = pipeFds()
        defer { close(r) }
        _ = "hi".withCString { write(w, $0, 2) }
        close(w)
        let out = OutgoingStream(fd: r, stream: Rexec.stderr)
        out.pump(a); out.pump(a); out.finish(a)
        let got = try frames(a, b).map { try RexecData.decode($0.1) }
        XCTAssertEqual(got, [RexecData(stream: Rexec.stderr, data: Array("hi".utf8)), RexecData(stream: Rexec.stderr, data: [])])
    }

    func testIncomingWritesCreditsAndClosesAtTheEnd() throws {
        let (a, b) = channels()
        let (r, w) = pipeFds()
        defer { close(r) }
        let inc = IncomingStream(fd: w, stream: Rexec.stdin)
        XCTAssertTrue(inc.accept(Array("abc".utf8), a))
        XCTAssertTrue(inc.accept([], a))
        inc.pump(a)
        XCTAssertTrue(inc.closed, "the end of the stream closes the fd")
        var buf = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(read(r, &buf, 8), 3)
        XCTAssertEqual(read(r, &buf, 8), 0, "the reader sees EOF")
        let credit = try frames(a, b).map { try RexecCredit.decode($0.1) }
        XCTAssertEqual(credit, [RexecCredit(stream: Rexec.stdin, bytes: 3)])
    }

    func testIncomingRefusesAnOverrunWindow() {
        let (a, _) = channels()
        let (r, w) = pipeFds()
        defer { close(r); close(w) }
        let inc = IncomingStream(fd: w, stream: Rexec.stdin)
        XCTAssertTrue(inc.accept([UInt8](repeating: 1, count: Rexec.window), a))
        XCTAssertFalse(inc.accept([1], a), "one byte beyond the window is a protocol violation")
    }

    func testDataForAGoneReaderIsCreditedAndDropped() throws {
        let (a, b) = channels()
        let (r, w) = pipeFds()
        close(r)
        signal(SIGPIPE, SIG_IGN)
        let inc = IncomingStream(fd: w, stream: Rexec.stdin)
        XCTAssertTrue(inc.accept([1, 2, 3], a))
        inc.pump(a)
        XCTAssertTrue(inc.closed)
        XCTAssertTrue(inc.accept([4, 5], a))
        let credit = try frames(a, b).map { try RexecCredit.decode($0.1).bytes }
        XCTAssertEqual(credit, [3, 2])
    }

    func testABadHeaderIsAnError() throws {
        let (a, b) = channels()
        a.sendRaw([UInt8](repeating: 0, count: 24))
        try a.flush()
        _ = try b.receive()
        XCTAssertThrowsError(try b.nextFrame())
    }
}
