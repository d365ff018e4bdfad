import Foundation
import XCTest
import QtfsAuth
import QtfsProtocol

/// The handshake against the committed vectors (key 00 01 .. 1f, nonces 40.. and 80..),
/// and against tampering: wrong key, reflected proof, bit flips, other version.
final class AuthTests: XCTestCase {
    static let key = try! AuthKey(hex: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    static let clientNonce: [UInt8] = (0..<32).map { 0x40 + $0 }
    static let serverNonce: [UInt8] = (0..<32).map { 0x80 + $0 }

    func vectorPayload(_ name: String) throws -> [UInt8] {
        let dir = #filePath.split(separator: "/").dropLast(2).joined(separator: "/")
        let text = try String(contentsOfFile: "/\(dir)/Vectors/\(name).vec", encoding: .utf8)
        var bytes: [UInt8] = []
        for line in text.split(separator: "\n") {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            bytes += code.split(separator: " ").compactMap { UInt8($0, radix: 16) }
        }
        return Array(bytes[Wire.headerSize...])
    }

    func testVectorProofsAreHmacSha256OfTheTranscripts() throws {
        let reply = try AuthChallengeReply.decode(try vectorPayload("auth-challenge.response"))
        let response = try AuthResponseRequest.decode(try vectorPayload("auth-response.request"))
        var server = ServerAuthExchange(serverNonce: Self.serverNonce)
        let answered = server.challenge(AuthChallengeRequest(clientNonce: Self.clientNonce), key: Self.key)
        XCTAssertEqual(answered, reply, "server proof differs from the committed vector (made with swift-crypto)")
        let client = ClientAuthExchange(clientNonce: Self.clientNonce)
        XCTAssertEqual(client.respond(to: reply, key: Self.key), response)
        XCTAssertTrue(server.verify(response, key: Self.key))
    }

    func testWrongKeyFailsBothWays() throws {
        let other = try AuthKey(bytes: Array(repeating: 7, count: 32))
        var server = ServerAuthExchange()
        let client = ClientAuthExchange()
        let reply = try XCTUnwrap(server.challenge(client.challenge, key: Self.key))
        XCTAssertNil(client.respond(to: reply, key: other), "client accepted a server without the key")
        let forged = try XCTUnwrap(ClientAuthExchange(clientNonce: client.clientNonce).respond(to: reply, key: Self.key))
        var otherServer = ServerAuthExchange()
        _ = otherServer.challenge(client.challenge, key: other)
        XCTAssertFalse(otherServer.verify(forged, key: other))
    }

    /// A server proof sent back as the client's proof must fail: the role is in the transcript.
    func testReflectedProofIsRefused() throws {
        var server = ServerAuthExchange()
        let reply = try XCTUnwrap(server.challenge(ClientAuthExchange().challenge, key: Self.key))
        XCTAssertFalse(server.verify(AuthResponseRequest(clientProof: reply.serverProof), key: Self.key))
    }

    func testEveryBitFlipOfTheProofIsRefused() throws {
        var server = ServerAuthExchange()
        let client = ClientAuthExchange()
        let reply = try XCTUnwrap(server.challenge(client.challenge, key: Self.key))
        let good = try XCTUnwrap(client.respond(to: reply, key: Self.key))
        for bit in 0..<(Auth.proofSize * 8) {
            var bad = good
            bad.clientProof[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertFalse(server.verify(bad, key: Self.key), "bit \(bit)")
        }
        XCTAssertTrue(server.verify(good, key: Self.key))
    }

    func testResponseWithoutChallengeAndUnknownMethodAreRefused() throws {
        let server = ServerAuthExchange()
        XCTAssertFalse(server.verify(AuthResponseRequest(clientProof: Array(repeating: 0, count: 32)), key: Self.key))
        var s2 = ServerAuthExchange()
        XCTAssertNil(s2.challenge(AuthChallengeRequest(method: 2, clientNonce: Self.clientNonce), key: Self.key))
    }

    func testVersionIsBound() throws {
        var server = ServerAuthExchange(version: 2)
        let client = ClientAuthExchange(version: 1)
        let reply = try XCTUnwrap(server.challenge(client.challenge, key: Self.key))
        XCTAssertNil(client.respond(to: reply, key: Self.key))
    }

    func testKeyTextParsing() {
        XCTAssertThrowsError(try AuthKey(hex: "00ff"))                        // too short
        XCTAssertThrowsError(try AuthKey(hex: String(repeating: "zz", count: 32)))
        XCTAssertThrowsError(try AuthKey(hex: String(repeating: "a", count: 33)))
        XCTAssertNoThrow(try AuthKey(hex: AuthKey.generateText()))
        XCTAssertNoThrow(try AuthKey(hex: " 0011223344556677\n8899aabbccddeeff\n"))
    }

    func testKeyFilePermissionsAreChecked() throws {
        let dir = NSTemporaryDirectory() + "qtfs-authkey-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/qtfs.key"
        try AuthKey.generate(path: path)
        XCTAssertThrowsError(try AuthKey.generate(path: path), "overwrote an existing key")
        XCTAssertNoThrow(try AuthKey.load(path: path))
        for mode: mode_t in [0o640, 0o604, 0o660, 0o644] {
            chmod(path, mode)
            XCTAssertThrowsError(try AuthKey.load(path: path)) { e in
                XCTAssertTrue("\(e)".contains("chmod 600"), "\(e)")
            }
        }
        chmod(path, 0o600)
        symlink(path, dir + "/link")
        XCTAssertThrowsError(try AuthKey.load(path: dir + "/link"))
        XCTAssertThrowsError(try AuthKey.load(path: dir + "/missing")) { e in
            XCTAssertTrue("\(e)".contains("--generate-key"), "\(e)")
        }
    }
}
