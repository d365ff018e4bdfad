// The leader/follower reader role: whoever reads must hand answers to others and pass the
// role on once its own answer is in, or the remaining callers would wait forever.
import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest
@testable import QtfsClient

final class ReaderRoleTests: XCTestCase {
    /// Answers in request order, one at a time with pauses: the reader's own answer comes
    /// early, so the role must move on for the others to get theirs.
    func testRoleHandedOverWhenReaderIsAnswered() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        let n = 6
        DispatchQueue.global().async {
            var reqs: [(FrameHeader, [UInt8])] = []
            for _ in 0..<n { reqs.append(peer.readRequest()!) }
            for (h, p) in reqs {
                usleep(2000)   // let the reader block in recv again between answers
                peer.send(FakePeer.response(h.opcode, id: h.id, payload: p))
            }
        }
        let replies = concurrent(n) { i in c.call(.read) { $0.u32(UInt32(i)) } }
        for (i, r) in replies.enumerated() {
            var w = WireWriter(); w.u32(UInt32(i))
            XCTAssertEqual(r.payload, w.bytes, "reply \(i) went to the wrong caller")
        }
        XCTAssertGreaterThan(c.handoverCount, 0)
        peer.close()
    }

    /// A posted request's answer is read and dropped by the next caller; the role is free
    /// between calls, so a later call on another thread reads for itself.
    func testPostedAnswerDroppedAndRoleFreeAfterwards() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        DispatchQueue.global().async {
            for _ in 0..<3 {
                let (h, p) = peer.readRequest()!
                peer.send(FakePeer.response(h.opcode, id: h.id, status: h.opcode == Opcode.release.rawValue ? 9 : 0, payload: p))
            }
        }
        XCTAssertTrue(c.post(.release) { $0.u64(7) })
        let first = concurrent(1) { _ in c.call(.read) { $0.u32(41) } }[0]
        XCTAssertEqual(first.status, 0)
        XCTAssertEqual(first.payload, [41, 0, 0, 0])
        let second = concurrent(1) { _ in c.call(.read) { $0.u32(42) } }[0]
        XCTAssertEqual(second.payload, [42, 0, 0, 0])
        XCTAssertEqual(c.handoverCount, 0)
        peer.close()
    }

    /// Death while one thread reads and others sleep: everybody gets EIO.
    func testDeathWakesFollowers() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        DispatchQueue.global().async {
            for _ in 0..<4 { _ = peer.readRequest() }
            usleep(5000)
            peer.close()
        }
        let replies = concurrent(4) { _ in c.call(.flush) { $0.u64(1) } }
        XCTAssertEqual(replies.map(\.status), [Int32](repeating: LinuxErrno.EIO, count: 4))
        XCTAssertFalse(c.post(.release) { $0.u64(1) })
    }

    /// Runs `n` calls on their own threads; results by index.
    private func concurrent(_ n: Int, _ body: @escaping @Sendable (Int) -> Reply) -> [Reply] {
        var out = [Reply](repeating: .eio, count: n)
        let lock = NSLock(), group = DispatchGroup()
        for i in 0..<n {
            group.enter()
            Thread.detachNewThread {
                let r = body(i)
                lock.lock(); out[i] = r; lock.unlock()
                group.leave()
            }
        }
        group.wait()
        return out
    }
}
