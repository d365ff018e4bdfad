import XCTest
@testable import QtfsProtocol

/// Decoders must reject, never trap on, whatever a peer sends.
final class HostileInputTests: XCTestCase {
    func testHeaderRejectsBadMagicVersionKindAndSize() {
        var good = FrameHeader.frame(kind: .request, opcode: .hello, id: 1, payload: HelloRequest(clientName: "x"))
        func decode(_ b: [UInt8]) throws -> FrameHeader { try b.withUnsafeBytes { try FrameHeader.decode($0) } }
        XCTAssertNoThrow(try decode(good))
        var bad = good; bad[0] = 0x00
        XCTAssertThrowsError(try decode(bad)) { XCTAssertEqual($0 as? FrameHeader.DecodeError, .badMagic(0x5346_5400)) }
        bad = good; bad[4] = 2
        XCTAssertThrowsError(try decode(bad)) { XCTAssertEqual($0 as? FrameHeader.DecodeError, .unsupportedVersion(2)) }
        bad = good; bad[5] = 9
        XCTAssertThrowsError(try decode(bad)) { XCTAssertEqual($0 as? FrameHeader.DecodeError, .badKind(9)) }
        good.replaceSubrange(16..<20, with: [0xff, 0xff, 0xff, 0x7f])
        XCTAssertThrowsError(try decode(good)) { XCTAssertEqual($0 as? FrameHeader.DecodeError, .oversized(0x7fff_ffff)) }
    }

    /// Every strict prefix of every sample payload is rejected as truncated (or, for
    /// payloads ending in `rest` data, decodes to a shorter value) without trapping.
    func testEveryTruncationIsRejected() {
        for s in Samples.all {
            let payload = s.payload.encoded()
            for cut in 0..<payload.count {
                let prefix = Array(payload[0..<cut])
                if let v = try? s.decode(prefix) {
                    XCTAssertFalse(s.isEqual(v), "\(s.name): truncated at \(cut) decoded to the full value")
                }
            }
        }
    }

    func testTrailingBytesRejected() {
        for s in Samples.all {
            let payload = s.payload.encoded() + [0]
            if let v = try? s.decode(payload) {
                // Only messages whose tail is raw data accept extra bytes, and then as data.
                XCTAssertFalse(s.isEqual(v), "\(s.name): trailing byte ignored silently")
            }
        }
    }

    func testNulInsidePathIsInvalid() {
        var w = WireWriter()
        Caller.root.encode(into: &w)
        w.u32(0)
        w.bytes16(Array("a\0b".utf8))
        XCTAssertThrowsError(try PathRequest.decode(w.bytes)) { XCTAssertEqual(($0 as? WireError)?.errno, LinuxErrno.EINVAL) }
    }

    func testOverlongPathIsNameTooLong() {
        var w = WireWriter()
        Caller.root.encode(into: &w)
        w.u32(0)
        w.bytes16([UInt8](repeating: 0x61, count: Wire.maxPath + 1))
        XCTAssertThrowsError(try PathRequest.decode(w.bytes)) { XCTAssertEqual(($0 as? WireError)?.errno, LinuxErrno.ENAMETOOLONG) }
    }

    func testLyingCountsDoNotAllocate() throws {
        var w = WireWriter()
        w.u8(1); w.u32(UInt32.max)
        XCTAssertThrowsError(try ReaddirReply.decode(w.bytes))
        var g = WireWriter()
        g.u32(0); g.u32(0); g.u32(0); g.u16(UInt16.max)
        try g.bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Void in
            var r = WireReader(raw)
            XCTAssertThrowsError(try Caller(from: &r))
        }
    }

    /// Random and bit-flipped payloads, a bounded number, for every request body.
    func testRandomMutationsNeverTrap() {
        var rng = SystemRandomNumberGenerator()
        for s in Samples.all {
            let payload = s.payload.encoded()
            for _ in 0..<300 {
                var m = payload
                let flips = Int.random(in: 1...4, using: &rng)
                for _ in 0..<flips where !m.isEmpty { m[Int.random(in: 0..<m.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                _ = try? s.decode(m)
                _ = try? s.decode((0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
        }
    }
}

