import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest
@testable import QtfsClient

final class ConnectionTests: XCTestCase {
    /// Runs `n` concurrent calls whose payload is their index; returns the replies by index.
    private func concurrentCalls(_ c: Connection, _ n: Int) -> [Reply?] {
        var replies = [Reply?](repeating: nil, count: n)
        let lock = NSLock()
        let group = DispatchGroup()
        // One thread per call (not concurrentPerform, which runs only ncpu at once): the
        // fake server waits until all n are in flight before answering.
        for i in 0..<n {
            group.enter()
            Thread.detachNewThread {
                let r = c.call(.read) { $0.u32(UInt32(i)) }
                lock.lock(); replies[i] = r; lock.unlock()
                group.leave()
            }
        }
        group.wait()
        return replies
    }

    func testManyInFlightAnsweredOutOfOrder() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        let n = 8
        DispatchQueue.global().async {
            var reqs: [(FrameHeader, [UInt8])] = []
            for _ in 0..<n { reqs.append(peer.readRequest()!) }
            for (h, p) in reqs.reversed() {   // answer last-first: echo the caller's index
                peer.send(FakePeer.response(h.opcode, id: h.id, payload: p + p))
            }
        }
        let replies = concurrentCalls(c, n)
        for (i, r) in replies.enumerated() {
            var w = WireWriter(); w.u32(UInt32(i)); w.u32(UInt32(i))
            XCTAssertEqual(r?.status, 0)
            XCTAssertEqual(r?.payload, w.bytes, "reply \(i) went to the wrong caller")
        }
        peer.close()
    }

    func testFramesSplitAcrossReadsAndCoalesced() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        DispatchQueue.global().async {
            let (h1, _) = peer.readRequest()!
            let (h2, _) = peer.readRequest()!
            // One 1 MiB frame dribbled a few bytes at a time at first, then the next
            // frame glued to its tail in the same write.
            let f1 = FakePeer.response(h1.opcode, id: h1.id, payload: big)
            let f2 = FakePeer.response(h2.opcode, id: h2.id, status: 2, payload: [])
            for b in f1.prefix(30) { peer.send([b]); usleep(200) }
            peer.send(Array(f1.dropFirst(30)) + f2)
        }
        let replies = concurrentCalls(c, 2)
        let sizes = Set(replies.map { $0!.payload.count })
        XCTAssertEqual(sizes, [0, 1 << 20])
        let data = replies.first { $0!.payload.count > 0 }!!
        XCTAssertEqual(data.payload, big)
        XCTAssertEqual(replies.first { $0!.payload.isEmpty }!!.status, 2)
        peer.close()
    }

    func testDisconnectFailsPendingAndLaterCallsWithEIO() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        DispatchQueue.global().async {
            _ = peer.readRequest()
            _ = peer.readRequest()
            peer.close()   // server dies with two calls in flight
        }
        let replies = concurrentCalls(c, 2)
        XCTAssertEqual(replies.map { $0!.status }, [LinuxErrno.EIO, LinuxErrno.EIO])
        XCTAssertFalse(c.isAlive)
        XCTAssertEqual(c.call(.flush) { $0.u64(1) }.status, LinuxErrno.EIO)
    }

    func testBadHeaderKillsConnection() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        DispatchQueue.global().async {
            _ = peer.readRequest()
            peer.send([UInt8](repeating: 0xAB, count: 24))
        }
        XCTAssertEqual(c.call(.flush) { $0.u64(1) }.status, LinuxErrno.EIO)
        peer.close()
    }

    func testHandshakeAndTypedDecode() throws {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        DispatchQueue.global().async {
            let (h, p) = peer.readRequest()!
            XCTAssertEqual(h.opcode, Opcode.hello.rawValue)
            XCTAssertEqual(try? HelloRequest.decode(p).clientName, "test")
            peer.send(FrameHeader.frame(kind: .response, opcode: .hello, id: h.id, payload: HelloReply(serverName: "fake")))
        }
        try c.handshake(clientName: "test")
        XCTAssertEqual(c.hello?.serverName, "fake")
        peer.close()
    }
}
