import XCTest
import QtfsAuth
import QtfsProtocol
@testable import QtfsServerCore

/// The server's crypt mode (docs/server.md, "Sealed frames"): where it comes from, what it
/// needs, and which suite HELLO picks.
final class SealedModeTests: XCTestCase {
    func testConfigKeyAndDefaults() throws {
        var cfg = ServerConfig()
        XCTAssertNil(cfg.crypt)
        try cfg.apply(configText: "crypt = optional")
        XCTAssertEqual(cfg.crypt, .optional)
        XCTAssertThrowsError(try cfg.apply(configText: "crypt = tls", source: "s.conf")) { e in
            XCTAssertTrue("\(e)".hasPrefix("s.conf:1:") && "\(e)".contains("aead, optional, none"), "\(e)")
        }
        XCTAssertEqual(try CryptMode.effective(nil, hasKey: true), .aead)
        XCTAssertEqual(try CryptMode.effective(nil, hasKey: false), CryptMode.none)
        XCTAssertEqual(try CryptMode.effective(CryptMode.none, hasKey: true), CryptMode.none)
        for mode in [CryptMode.aead, .optional] {
            XCTAssertThrowsError(try CryptMode.effective(mode, hasKey: false)) { e in
                XCTAssertTrue("\(e)".contains("needs a key"), "\(e)")
            }
        }
    }

    func testSuiteChoice() {
        let aes = Sealed.Suite.aes256gcm.capability, chacha = Sealed.Suite.chacha20poly1305.capability
        XCTAssertNil(Gatekeeper.preferredSuite(offered: 0))
        XCTAssertNil(Gatekeeper.preferredSuite(offered: HelloRequest.capAuthCapable))
        XCTAssertEqual(Gatekeeper.preferredSuite(offered: aes), .aes256gcm)
        XCTAssertEqual(Gatekeeper.preferredSuite(offered: chacha), .chacha20poly1305)
        // Both offered: AES where this CPU has AES instructions, else ChaCha20.
        let both = Gatekeeper.preferredSuite(offered: aes | chacha)
        XCTAssertEqual(both, cpuHasAES ? .aes256gcm : .chacha20poly1305)
    }
}
