import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest
@testable import QtfsClient

/// RELEASE frames held back (HeldFrames.swift): they go with the next request, in order,
/// or alone once the flusher's delay has passed.
final class HeldFramesTests: XCTestCase {
    private func readable(_ fd: Int32, waitMs: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, waitMs) > 0
    }

    private func postRelease(_ c: Connection, handle: UInt64) {
        XCTAssertTrue(c.postHeld(.release) { HandleRequest(handle: handle).encode(into: &$0) })
    }

    private func handle(_ payload: [UInt8]) -> UInt64? {
        payload.withUnsafeBytes { try? HandleRequest.decode($0).handle }
    }

    func testHeldReleasesGoFirstWithTheNextRequest() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        postRelease(c, handle: 7)
        postRelease(c, handle: 8)
        XCTAssertFalse(readable(peer.fd, waitMs: 0), "a held frame went out on its own at once")
        var seen: [(UInt16, UInt64?)] = []
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for _ in 0..<3 {
                let (h, p) = peer.readRequest()!
                seen.append((h.opcode, h.opcode == Opcode.release.rawValue ? self.handle(p) : nil))
                if h.opcode == Opcode.getattr.rawValue { peer.send(FakePeer.response(h.opcode, id: h.id, payload: p)) }
            }
            done.signal()
        }
        let r = c.call(.getattr) { $0.u32(42) }
        XCTAssertEqual(r.status, 0)
        done.wait()
        XCTAssertEqual(seen.map { $0.0 }, [Opcode.release, .release, .getattr].map { $0.rawValue })
        XCTAssertEqual(seen.prefix(2).map { $0.1 }, [7, 8])
        peer.close()
    }

    func testHeldReleaseGoesAloneAfterTheDelay() {
        let (client, peer) = FakePeer.pair()
        let c = Connection(socket: client)
        postRelease(c, handle: 9)
        XCTAssertTrue(readable(peer.fd, waitMs: 1000), "the flusher did not send the held frame")
        let (h, p) = peer.readRequest()!
        XCTAssertEqual(h.opcode, Opcode.release.rawValue)
        XCTAssertEqual(handle(p), 9)
        peer.close()
        _ = c
    }
}
