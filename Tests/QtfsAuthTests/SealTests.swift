import Foundation
import XCTest
import QtfsAuth
import QtfsProtocol

/// Sealed frames against Tests/Vectors/aead (made by python3-cryptography, independent of
/// this code), and against every way a frame can be tampered with.
final class SealTests: XCTestCase {
    /// All hex bytes of a vector file, and its fields split by comment lines.
    static func fields(_ name: String) throws -> [[UInt8]] {
        let dir = #filePath.split(separator: "/").dropLast(2).joined(separator: "/")
        let text = try String(contentsOfFile: "/\(dir)/Vectors/\(name).vec", encoding: .utf8)
        var out: [[UInt8]] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let bytes = parts[0].split(separator: " ").compactMap { UInt8($0, radix: 16) }
            if parts.count > 1 { out.append(bytes) } else { out[out.count - 1] += bytes }
        }
        return out
    }

    static func keys(_ suite: Sealed.Suite) throws -> SessionKeys {
        let f = try fields("aead/keys")
        return SessionKeys(key: try AuthKey(bytes: f[0]), suite: suite, clientNonce: f[1], serverNonce: f[2],
                           serverProof: f[3], clientProof: f[4])
    }

    func testDerivedKeysMatchTheVectors() throws {
        let f = try Self.fields("aead/keys")
        for (i, suite) in Sealed.Suite.allCases.enumerated() {
            let k = try Self.keys(suite)
            XCTAssertEqual(Sealed.info(.clientToServer, suite, serverProof: f[3], clientProof: f[4]), f[6 + 4 * i])
            XCTAssertEqual(k.clientToServer, f[7 + 4 * i], "\(suite) client to server")
            XCTAssertEqual(k.serverToClient, f[9 + 4 * i], "\(suite) server to client")
            XCTAssertNotEqual(k.clientToServer, k.serverToClient)
        }
    }

    /// Seals the plain frames in order and compares with the sealed vectors; opens them back.
    func checkSequence(_ suite: Sealed.Suite, forClient: Bool, _ cases: [(vector: String, plain: [UInt8])]) throws {
        let (sealer, _) = try Self.keys(suite).channel(forClient: forClient)
        let (_, opener) = try Self.keys(suite).channel(forClient: !forClient)
        for (n, c) in cases.enumerated() {
            let f = try Self.fields("aead/\(suite.vectorName).\(c.vector)")
            XCTAssertEqual(f[0], Sealed.nonce(UInt64(n)), c.vector)
            let sealed = Array(f.dropFirst().joined())
            XCTAssertEqual(try sealer.seal(c.plain), sealed, "\(suite) \(c.vector)")
            XCTAssertEqual(try opener.open(sealed), c.plain, "\(suite) \(c.vector)")
        }
    }

    func testSealedFramesMatchTheVectors() throws {
        let getattr = try Self.fields("getattr.request").joined(), attr = try Self.fields("attr.response").joined()
        let empty = try Self.fields("empty.response").joined()
        let stream = Self.streamFrame(Array("relayed bytes\n".utf8))
        for suite in Sealed.Suite.allCases {
            try checkSequence(suite, forClient: true, [("getattr.request", Array(getattr)), ("stream", stream), ("stream-end", Self.streamFrame([]))])
            try checkSequence(suite, forClient: false, [("attr.response", Array(attr)), ("empty.response", Array(empty))])
        }
    }

    static func streamFrame(_ data: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        FrameHeader(kind: .stream, opcode: 0, id: 0, length: UInt32(data.count)).encode(into: &w)
        w.raw(data)
        return w.bytes
    }

    /// A pair as a client and server would hold them after the handshake.
    func pair(_ suite: Sealed.Suite = .aes256gcm) throws -> (FrameSealer, FrameOpener) {
        let keys = try Self.keys(suite)
        return (try keys.channel(forClient: true).sealer, try keys.channel(forClient: false).opener)
    }

    func testEveryAlteredBitIsDetected() throws {
        let plain = Self.streamFrame(Array("secret".utf8))
        let sealed = try pair().0.seal(plain)
        for bit in 0..<(sealed.count * 8) where !(16 * 8..<20 * 8).contains(bit) {   // length: see below
            var bad = sealed
            bad[bit / 8] ^= UInt8(1 << (bit % 8))
            XCTAssertThrowsError(try pair().1.open(bad), "bit \(bit) flipped went unnoticed")
        }
        var longer = sealed; longer[16] ^= 1   // a length that no longer fits: malformed
        XCTAssertThrowsError(try pair().1.open(longer))
    }

    func testDroppedReorderedAndReplayedFramesFail() throws {
        let (sealer, _) = try pair()
        let frames = try (0..<3).map { try sealer.seal(Self.streamFrame([UInt8($0)])) }
        XCTAssertThrowsError(try pair().1.open(frames[1]), "frame 1 opened first (frame 0 dropped)")
        let (_, opener) = try pair()
        XCTAssertNoThrow(try opener.open(frames[0]))
        XCTAssertThrowsError(try opener.open(frames[0]), "a replayed frame opened") { e in
            XCTAssertEqual(e as? SealError, .forged(counter: 1))
        }
        let (_, fresh) = try pair()
        XCTAssertThrowsError(try fresh.open(frames[2]), "frames 2 and 0 swapped went unnoticed")
    }

    func testFramesOfAnotherConnectionOrDirectionFail() throws {
        let sealed = try pair().0.seal(Self.streamFrame([1, 2, 3]))
        let other = SessionKeys(key: try AuthKey(bytes: Array(0..<32)), suite: .aes256gcm, clientNonce: Array(repeating: 1, count: 32),
                                serverNonce: Array(repeating: 2, count: 32), serverProof: Array(repeating: 3, count: 32),
                                clientProof: Array(repeating: 4, count: 32))
        XCTAssertThrowsError(try other.channel(forClient: false).opener.open(sealed), "another connection's frame opened")
        XCTAssertThrowsError(try Self.keys(.aes256gcm).channel(forClient: true).opener.open(sealed), "a reflected frame opened")
        XCTAssertThrowsError(try Self.keys(.chacha20poly1305).channel(forClient: false).opener.open(sealed), "another suite opened")
    }

    func testPayloadIsEncryptedAndSizesAreCounted() throws {
        let secret = Array("the host's /etc/shadow".utf8)
        let sealed = try pair().0.seal(Self.streamFrame(secret))
        XCTAssertEqual(sealed.count, Wire.headerSize + secret.count + Sealed.tagSize)
        XCTAssertNil(sealed.firstRange(of: secret[0..<8]), "plaintext visible in a sealed frame")
        let header = try sealed.withUnsafeBytes { try FrameHeader.decode($0, maxLength: Sealed.maxSealedLength()) }
        XCTAssertEqual(Int(header.length), secret.count + Sealed.tagSize)
    }
}

extension Sealed.Suite {
    var vectorName: String { self == .aes256gcm ? "aes256gcm" : "chacha20poly1305" }
}
