// The server must survive anything a peer sends after HELLO: random payloads for every
// opcode get an answer (an error or a success) and the connection keeps working.
import Foundation
import Glibc
import QtfsProtocol
import XCTest

final class HostileInputTests: ServerTestCase {
    func testRandomPayloadsForEveryOpcode() throws {
        let c = try client()
        var rng = SystemRandomNumberGenerator()
        var id: UInt64 = 10_000
        for round in 0..<6 {
            for op in UInt16(2)...UInt16(70) {
                let len = round == 0 ? 0 : Int.random(in: 1...300, using: &rng)
                var payload = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if round % 2 == 1, len >= 8 { for i in 0..<8 { payload[i] = 0 } }   // export 0 / handle 0, to get further
                var w = WireWriter()
                FrameHeader(kind: .request, opcode: op, id: id, length: UInt32(payload.count)).encode(into: &w)
                w.raw(payload)
                try c.sendRaw(w.bytes)
                let (h, _) = try c.readFrame()
                XCTAssertEqual(h.id, id, "opcode \(op)")
                XCTAssertEqual(h.opcode, op)
                id += 1
            }
        }
        XCTAssertEqual(try c.lookup("").mode & 0o170000, 0o040000)
    }

    func testStopDoesNotHangOnAWorkerBlockedInAFifo() throws {
        let c = try client()
        XCTAssertEqual(mkfifo(host("fifo"), 0o666), 0)
        try c.sendRaw(c.frame(.open, OpenRequest(caller: .root, target: c.t("fifo"), flags: UInt32(O_WRONLY)), id: 1))
        _ = try c.lookup("")   // the OPEN reached a worker before this answer came back
        server.stop()          // must return (after its grace period), not hang
        XCTAssertTrue(c.waitClosed())
        // Unblock the abandoned worker so it does not linger for the rest of the run.
        let r = Glibc.open(host("fifo"), O_RDONLY | O_NONBLOCK)
        if r >= 0 { close(r) }
    }
}
