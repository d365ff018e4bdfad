import Glibc
import XCTest
import QtfsAuth
import QtfsProtocol
@testable import QtfsRexec

/// Remote exec's frames on a sealed connection: sealed as queued, opened as taken, and a
/// frame that was altered, replayed or sent in plaintext ends the channel.
final class SealedChannelTests: XCTestCase {
    static func keys(_ suite: Sealed.Suite = .aes256gcm) throws -> SessionKeys {
        SessionKeys(key: try AuthKey(bytes: Array(0..<32)), suite: suite, clientNonce: Array(repeating: 1, count: 32),
                    serverNonce: Array(repeating: 2, count: 32), serverProof: Array(repeating: 3, count: 32),
                    clientProof: Array(repeating: 4, count: 32))
    }

    func socketPair() -> (Int32, Int32) {
        var sv: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv), 0)
        return (sv[0], sv[1])
    }

    /// The DPU's channel (sealed as a client) and the raw other end of its socket.
    func dpuChannel() throws -> (FrameChannel, Int32) {
        let (a, b) = socketPair()
        return (FrameChannel(fd: a, sealing: try Self.keys().channel(forClient: true)), b)
    }

    func rawBytes(_ fd: Int32) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return n > 0 ? Array(buf[0..<n]) : []
    }

    func testFramesCrossSealedAndArriveWhole() throws {
        let (dpu, net) = try dpuChannel()
        let secret = Array("stdin secret".utf8)
        let frames = [FrameHeader.frame(kind: .event, opcode: .rexecData, id: 0, payload: RexecData(stream: Rexec.stdin, data: secret)),
                      FrameHeader.frame(kind: .event, opcode: .rexecSignal, id: 0, payload: RexecSignal(signal: 15))]
        dpu.send(.rexecData, RexecData(stream: Rexec.stdin, data: secret))
        dpu.sendRaw(frames[1])
        try dpu.flush()
        let wire = rawBytes(net)
        XCTAssertNil(wire.firstRange(of: secret), "stream bytes are not visible on the wire")
        XCTAssertEqual(wire.count, frames.joined().count + 2 * Sealed.tagSize)

        // The host's channel, given the sealed bytes as already received (REXEC_START's leftover).
        let host = FrameChannel(fd: net, received: wire, sealing: try Self.keys().channel(forClient: false))
        let (h1, p1) = try XCTUnwrap(host.nextFrame())
        XCTAssertEqual(h1.length, UInt32(p1.count), "the plain header's length counts no tag")
        XCTAssertEqual(try RexecData.decode(p1), RexecData(stream: Rexec.stdin, data: secret))
        let (h2, p2) = try XCTUnwrap(host.nextFrame())
        XCTAssertEqual(h2.opcode, Opcode.rexecSignal.rawValue)
        XCTAssertEqual(try RexecSignal.decode(p2).signal, 15)
        XCTAssertNil(try host.nextFrame())

        // And back: the host's frames open on the DPU.
        host.send(.rexecExit, RexecExit(signaled: false, code: 3, coreDumped: false))
        try host.flush()
        _ = try dpu.receive()
        XCTAssertEqual(try RexecExit.decode(XCTUnwrap(dpu.nextFrame()).1).code, 3)
    }

    /// Each way of tampering fails to open: a flipped bit, a replay, a plaintext frame.
    func testTamperedFramesEndTheChannel() throws {
        let (dpu, net) = try dpuChannel()
        dpu.send(.rexecData, RexecData(stream: Rexec.stdin, data: Array("rm -rf /tmp/x\n".utf8)))
        try dpu.flush()
        let good = rawBytes(net)
        var flipped = good
        flipped[Wire.headerSize + 6] ^= 0x20
        let plain = FrameHeader.frame(kind: .event, opcode: .rexecSignal, id: 0, payload: RexecSignal(signal: 9))
        for (name, wire) in [("flipped bit", flipped), ("replay", good + good), ("plaintext", plain)] {
            let host = FrameChannel(fd: dup(net), received: wire, sealing: try Self.keys().channel(forClient: false))
            var taken = 0
            XCTAssertThrowsError(try { while try host.nextFrame() != nil { taken += 1 } }(), name) { error in
                XCTAssertNotNil(error as? SealError, "\(name): \(error)")
            }
            XCTAssertEqual(taken, name == "replay" ? 1 : 0, name)
        }
        close(net)
    }

    func testPlainChannelsStayPlain() throws {
        let (a, b) = socketPair()
        let dpu = FrameChannel(fd: a)
        dpu.send(.rexecData, RexecData(stream: Rexec.stdin, data: Array("visible".utf8)))
        try dpu.flush()
        let wire = rawBytes(b)
        XCTAssertNotNil(wire.firstRange(of: Array("visible".utf8)), "crypt=none: the bytes are in the clear")
        XCTAssertFalse(dpu.isSealed)
        close(b)
    }
}
