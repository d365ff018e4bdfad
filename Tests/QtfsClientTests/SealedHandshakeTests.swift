import QtfsProtocol
import QtfsSystem
import XCTest
@testable import QtfsClient

/// The client's side of the suite negotiation (docs/protocol.md, "Sealed frames"): what it
/// accepts from a server's HELLO answer, and its crypt setting in client.conf.
final class SealedHandshakeTests: XCTestCase {
    let aes = Sealed.Suite.aes256gcm.capability, chacha = Sealed.Suite.chacha20poly1305.capability

    func refusal(_ caps: UInt64, offered: UInt64) -> String? {
        do { _ = try Connection.suite(chosenBy: caps, offered: offered, server: "srv"); return nil } catch {
            return "\(error)"
        }
    }

    func testAnswerMustPickExactlyOneOfferedSuite() throws {
        let both = aes | chacha
        XCTAssertEqual(try Connection.suite(chosenBy: HelloReply.capAuthRequired | chacha, offered: both, server: "s"), .chacha20poly1305)
        XCTAssertEqual(try Connection.suite(chosenBy: aes, offered: both, server: "s"), .aes256gcm)
        XCTAssertTrue(refusal(HelloReply.capAuthRequired, offered: both)?.contains("no cipher suite") == true)
        XCTAssertTrue(refusal(both, offered: both)?.contains("several cipher suites") == true)
        XCTAssertTrue(refusal(aes, offered: chacha)?.contains("did not offer") == true)
        // Offering none: plaintext, and a suite in the answer is a protocol error.
        XCTAssertNil(try Connection.suite(chosenBy: HelloReply.capAuthRequired, offered: 0, server: "s"))
        XCTAssertTrue(refusal(chacha, offered: 0)?.contains("offered none") == true)
    }

    func testOfferAlwaysHasChaCha() {
        XCTAssertNotEqual(Connection.suitesOffered & chacha, 0)
    }

    func testCryptSetting() throws {
        XCTAssertEqual(try ClientConfig.parse("crypt = none\n", source: "c.conf").crypt, ClientCrypt.none)
        XCTAssertThrowsError(try ClientConfig.parse("crypt = tls\n", source: "c.conf"))
        var c = ClientConfig()
        c.crypt = .aead
        XCTAssertEqual(c.asLeadingOptions(["qtfs-fuse", "/", "/mnt"]), ["qtfs-fuse", "-o", "crypt=aead", "/", "/mnt"])
        XCTAssertEqual(ClientCrypt.effective(nil, hasKey: true), .aead)
        XCTAssertEqual(ClientCrypt.effective(nil, hasKey: false), .none)
    }
}
