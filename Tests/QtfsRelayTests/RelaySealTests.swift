import Foundation
import XCTest
import QtfsAuth
import QtfsProtocol
@testable import QtfsRelay

/// The STREAM frames of a sealed relay against Tests/Vectors/aead (python3-cryptography),
/// and what happens to a relayed stream that is altered, cut or reordered.
final class RelaySealTests: XCTestCase {
    /// The vector file's bytes, one array per commented field.
    static func vector(_ name: String) throws -> [[UInt8]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Vectors/aead/\(name).vec"), encoding: .utf8)
        var fields: [[UInt8]] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let hex = line.prefix { $0 != "#" }.split(separator: " ").compactMap { UInt8($0, radix: 16) }
            if line.contains("#") { fields.append(hex) } else { fields[fields.count - 1] += hex }
        }
        return fields
    }

    static func keys(_ suite: Sealed.Suite) throws -> SessionKeys {
        let f = try vector("keys")
        return SessionKeys(key: try AuthKey(bytes: f[0]), suite: suite, clientNonce: f[1], serverNonce: f[2],
                           serverProof: f[3], clientProof: f[4])
    }

    /// The client's end (sealing client to server) and the server's (opening it), each
    /// past the GETATTR request of the vectors (counter 0), as the vectors' STREAM frames are.
    static func ends(_ suite: Sealed.Suite, log: @escaping @Sendable (String) -> Void = { _ in }) throws -> (client: RelaySeal, server: RelaySeal) {
        let k = try keys(suite)
        let (cs, co) = try k.channel(forClient: true), (ss, so) = try k.channel(forClient: false)
        let request = Array(try vector("\(suite == .aes256gcm ? "aes256gcm" : "chacha20poly1305").getattr.request").dropFirst().joined())
        _ = try cs.seal(so.open(request))
        return (RelaySeal(sealer: cs, opener: co, peer: "test server", log: log),
                RelaySeal(sealer: ss, opener: so, peer: "test client", log: log))
    }

    static func sealed(_ seal: RelaySeal, _ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { try seal.seal($0, into: &out) }
        return out
    }

    static func opened(_ seal: RelaySeal, _ bytes: [UInt8]) throws -> [UInt8] {
        var plain: [UInt8] = []
        try bytes.withUnsafeBytes { try seal.open($0, into: &plain) }
        return plain
    }

    func testStreamFramesMatchTheVectors() throws {
        for (suite, name) in [(Sealed.Suite.aes256gcm, "aes256gcm"), (.chacha20poly1305, "chacha20poly1305")] {
            let (client, server) = try Self.ends(suite)
            let stream = Array(try Self.vector("\(name).stream").dropFirst().joined())
            let end = Array(try Self.vector("\(name).stream-end").dropFirst().joined())
            XCTAssertEqual(try Self.sealed(client, Array("relayed bytes\n".utf8)), stream, "\(suite)")
            var out: [UInt8] = []
            try client.sealEnd(into: &out)
            XCTAssertEqual(out, end, "\(suite) end")
            // Opened a byte at a time: frames are taken only when whole.
            var plain: [UInt8] = []
            for b in stream + end { try [b].withUnsafeBytes { try server.open($0, into: &plain) } }
            XCTAssertEqual(plain, Array("relayed bytes\n".utf8))
            XCTAssertTrue(server.endReceived)
            XCTAssertNoThrow(try server.checkEnd())
        }
    }

    func testLongDataGoesInFramesOfAtMost64KiB() throws {
        let (client, server) = try Self.ends(.chacha20poly1305)
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let wire = try Self.sealed(client, data)
        var lengths: [Int] = [], at = 0
        while at < wire.count {
            let h = try wire.withUnsafeBytes { try FrameHeader.decode(UnsafeRawBufferPointer(rebasing: $0[at..<(at + 24)]), maxLength: 1 << 20) }
            XCTAssertEqual(h.kind, .stream)
            lengths.append(Int(h.length) - Sealed.tagSize)
            at += 24 + Int(h.length)
        }
        XCTAssertEqual(lengths, [65536, 65536, 65536, 200_000 - 3 * 65536])
        XCTAssertEqual(try Self.opened(server, wire), data)
        XCTAssertEqual(try Self.sealed(client, []), [], "nothing to relay is no frame (an empty one is the end)")
    }

    /// Every flipped bit either fails to open or (a longer length) leaves the frame
    /// incomplete, which the end of the connection then reports as a truncation: no byte
    /// of it is ever relayed.
    func testEveryFlippedBitResetsTheRelay() throws {
        let plain = Array("secret relayed bytes".utf8)
        let good = try Self.sealed(try Self.ends(.aes256gcm).client, plain)
        for bit in 0..<(good.count * 8) {
            var bad = good
            bad[bit / 8] ^= UInt8(1 << (bit % 8))
            let server = try Self.ends(.aes256gcm).server
            var got: [UInt8] = []
            var failure: RelaySeal.Failure?
            do {
                try bad.withUnsafeBytes { try server.open($0, into: &got) }
                try server.checkEnd()
            } catch let e as RelaySeal.Failure {
                failure = e
            }
            XCTAssertNotNil(failure, "bit \(bit)")
            XCTAssertEqual(got, [], "bit \(bit): no byte of an altered frame is relayed")
        }
    }

    func testReorderedReplayedOrDroppedFramesFail() throws {
        let (client, _) = try Self.ends(.aes256gcm)
        let one = try Self.sealed(client, [1]), two = try Self.sealed(client, [2])
        for (name, wire) in [("reordered", two + one), ("replayed", one + one), ("dropped", two)] {
            let server = try Self.ends(.aes256gcm).server
            var got: [UInt8] = []
            XCTAssertThrowsError(try wire.withUnsafeBytes { try server.open($0, into: &got) }, name) {
                guard case .forged(.forged) = $0 as? RelaySeal.Failure else { return XCTFail("\(name): \($0)") }
            }
            XCTAssertEqual(got, name == "replayed" ? [1] : [], name)
        }
    }

    func testTheEndIsRequiredAndFinal() throws {
        var (client, server) = try Self.ends(.aes256gcm)
        XCTAssertEqual(try Self.opened(server, try Self.sealed(client, [7, 8])), [7, 8])
        XCTAssertThrowsError(try server.checkEnd()) { XCTAssertEqual($0 as? RelaySeal.Failure, .truncated) }

        (client, server) = try Self.ends(.aes256gcm)
        var wire: [UInt8] = []
        try client.sealEnd(into: &wire)
        wire += try Self.sealed(client, [9])
        XCTAssertThrowsError(try Self.opened(server, wire)) { XCTAssertEqual($0 as? RelaySeal.Failure, .afterEnd) }
    }

    /// A frame of another kind, even sealed with the right key, is not relayed data.
    func testOnlyStreamFramesAreTaken() throws {
        let k = try Self.keys(.aes256gcm)
        let sealer = try k.channel(forClient: true).sealer, opener = try k.channel(forClient: false).opener
        let server = RelaySeal(sealer: try k.channel(forClient: false).sealer, opener: opener, peer: "p", log: { _ in })
        let answer = try sealer.seal(FrameHeader.errorFrame(opcode: Opcode.sockConnect.rawValue, id: 1, errno: 0))
        XCTAssertThrowsError(try Self.opened(server, answer)) {
            guard case .notStream = $0 as? RelaySeal.Failure else { return XCTFail("\($0)") }
        }
    }
}
