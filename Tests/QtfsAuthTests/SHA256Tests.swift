import Foundation
import XCTest
@testable import QtfsAuth

/// The project's own SHA-256 and HMAC-SHA256 against published vectors (FIPS 180-4 examples,
/// RFC 4231), at every padding boundary against the system's sha256sum, and fed in pieces.
final class SHA256Tests: XCTestCase {
    func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    func testFipsExamples() {
        XCTAssertEqual(hex(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 55/56/64-byte padding edges, against coreutils' sha256sum.
    func testPaddingEdgesAgainstSha256sum() throws {
        for n in [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000] {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            XCTAssertEqual(hex(SHA256.hash(data)), try sha256sum(data), "length \(n)")
        }
    }

    func testPiecewiseUpdatesEqualOneShot() {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        for cut in [0, 1, 63, 64, 65, 200] {
            var h = SHA256()
            h.update(Array(data[..<cut]))
            h.update(Array(data[cut...]))
            XCTAssertEqual(h.finish(), SHA256.hash(data), "cut at \(cut)")
        }
    }

    func testRfc4231() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ]
        for c in cases { XCTAssertEqual(hex(HMACSHA256.mac(key: c.key, c.data)), c.mac) }
    }

    func testConstantTimeEquality() {
        XCTAssertTrue(HMACSHA256.equalInConstantTime([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(HMACSHA256.equalInConstantTime([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(HMACSHA256.equalInConstantTime([1, 2, 3], [1, 2]))
    }

    private func sha256sum(_ data: [UInt8]) throws -> String {
        let input = Pipe(), output = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(data))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out.prefix(64), as: UTF8.self)
    }
}
