// The relay between a local unix socket and its qtfs connection, over real socketpairs:
// bytes both ways, SOCK_SEQPACKET messages framed by a u32 length, end of data passed on
// as a half close, and the pair dropped once both sides are done.
import Glibc
import QtfsTestSupport
import XCTest
@testable import QtfsRelay

final class RelayLoopTests: XCTestCase {
    /// (the application's end, the end the relay serves)
    private func pair(_ type: Int32) -> (Int32, Int32) {
        var sv: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, type, 0, &sv), 0)
        var tv = timeval(tv_sec: 10, tv_usec: 0)   // a stuck relay fails the test, not hangs it
        setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return (sv[0], sv[1])
    }

    private func send(_ fd: Int32, _ s: [UInt8]) { XCTAssertEqual(s.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }, s.count) }

    /// Reads exactly `n` bytes (stream), or nil at end of data.
    private func read(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n), got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r <= 0 { return got == 0 && r == 0 ? nil : Array(out[0..<got]) }
            got += r
        }
        return out
    }

    private let stream = Int32(SOCK_STREAM.rawValue), seqpacket = Int32(SOCK_SEQPACKET.rawValue)

    /// A relay serving one pair: (the relay, the application's socket, the network peer).
    /// The test closes the last two.
    private func relayed(seqpacket sp: Bool) -> (RelayLoop, Int32, Int32) {
        let relay = RelayLoop(name: "test relay")
        let (app, local) = pair(sp ? seqpacket : stream), (peer, net) = pair(stream)
        relay.add(local: local, net: net, seqpacket: sp)
        return (relay, app, peer)
    }

    func testStreamBytesGoBothWaysUnchanged() {
        let (_, app, peer) = relayed(seqpacket: false)
        defer { close(app); close(peer) }
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        send(app, big)
        XCTAssertEqual(read(peer, big.count), big, "local -> network, larger than one chunk")
        send(peer, Array("pong".utf8))
        XCTAssertEqual(read(app, 4), Array("pong".utf8), "network -> local")
    }

    func testSeqpacketMessagesAreFramedWithTheirLength() {
        let (_, app, peer) = relayed(seqpacket: true)
        defer { close(app); close(peer) }
        send(app, Array("one".utf8))
        send(app, Array("three".utf8))
        XCTAssertEqual(read(peer, 4 + 3 + 4 + 5), [3, 0, 0, 0] + Array("one".utf8) + [5, 0, 0, 0] + Array("three".utf8))
        send(peer, [2, 0, 0, 0] + Array("hi".utf8) + [1, 0, 0, 0] + Array("!".utf8))
        var m = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(m.withUnsafeMutableBytes { recv(app, $0.baseAddress, $0.count, 0) }, 2, "one message per frame")
        XCTAssertEqual(Array(m[0..<2]), Array("hi".utf8))
        XCTAssertEqual(m.withUnsafeMutableBytes { recv(app, $0.baseAddress, $0.count, 0) }, 1)
    }

    func testEndOfDataIsAHalfCloseAndBothEndsCloseThePair() {
        let (relay, app, peer) = relayed(seqpacket: false)
        defer { close(app); close(peer) }
        send(app, Array("last".utf8))
        shutdown(app, Int32(SHUT_WR))
        XCTAssertEqual(read(peer, 4), Array("last".utf8))
        XCTAssertNil(read(peer, 1), "the network side sees the end of data")
        send(peer, Array("reply".utf8))
        XCTAssertEqual(read(app, 5), Array("reply".utf8), "the other direction still works")
        shutdown(peer, Int32(SHUT_WR))
        XCTAssertNil(read(app, 1))
        XCTAssertTrue(eventually { relay.count == 0 }, "the pair is gone once both directions ended")
    }

    func testAnOversizedSeqpacketFrameClosesThePair() {
        let (relay, app, peer) = relayed(seqpacket: true)
        defer { close(app); close(peer) }
        let len = UInt32(RelayLoop.maxMessage + 1)
        send(peer, [UInt8(len & 0xff), UInt8(len >> 8 & 0xff), UInt8(len >> 16 & 0xff), UInt8(len >> 24)])
        XCTAssertTrue(eventually { relay.count == 0 }, "a frame over the limit ends the pair")
        XCTAssertNil(read(app, 1), "the application sees its socket closed")
    }
}
