import Glibc
import XCTest
@testable import QtfsServerCore

/// Config-file keys of the security work, and the client address allow-list.
final class SecurityConfigTests: XCTestCase {
    func testSecurityAndLimitKeys() throws {
        var cfg = ServerConfig()
        try cfg.apply(configText: """
            key_file = /etc/qtfs/qtfs.key
            allow_clients = 192.0.2.0/24, 10.1.2.3 ,fd00::/8
            whitelist = /etc/qtfs/whitelist
            max_frame = 69632
            max_handles = 8
            max_connections_per_address = 3
            handshake_timeout = 5
            idle_timeout = 60
            """)
        XCTAssertEqual(cfg.authKeyFile, "/etc/qtfs/qtfs.key")
        XCTAssertEqual(cfg.allowedClients, ["192.0.2.0/24", "10.1.2.3", "fd00::/8"])
        XCTAssertEqual(cfg.whitelistFile, "/etc/qtfs/whitelist")
        XCTAssertEqual([cfg.maxFrame, cfg.maxHandles, cfg.maxConnectionsPerAddress, cfg.handshakeTimeout, cfg.idleTimeout],
                       [69632, 8, 3, 5, 60])
        XCTAssertFalse(cfg.noAuth)
        try cfg.apply(configText: "auth = none")
        XCTAssertTrue(cfg.noAuth)
        for bad in ["auth = maybe", "max_frame = 100", "max_frame = 2000000", "max_handles = 0", "idle_timeout = -1"] {
            var c = ServerConfig()
            XCTAssertThrowsError(try c.apply(configText: bad, source: "t.conf")) { e in
                XCTAssertTrue("\(e)".hasPrefix("t.conf:1:"), "\(e)")
            }
        }
    }

    func address(_ text: String) -> sockaddr_storage {
        var ss = sockaddr_storage()
        var v4 = sockaddr_in(), v6 = sockaddr_in6()
        if inet_pton(AF_INET, text, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            withUnsafeMutableBytes(of: &ss) { d in withUnsafeBytes(of: v4) { d.copyMemory(from: $0) } }
        } else {
            XCTAssertEqual(inet_pton(AF_INET6, text, &v6.sin6_addr), 1)
            v6.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &ss) { d in withUnsafeBytes(of: v6) { d.copyMemory(from: $0) } }
        }
        return ss
    }

    func testAllowList() throws {
        let list = try AddressAllowList(["192.0.2.0/24", "10.1.2.3", "fd00::/8"])
        XCTAssertTrue(list.allows(address("192.0.2.77")))
        XCTAssertFalse(list.allows(address("192.0.3.1")))
        XCTAssertTrue(list.allows(address("10.1.2.3")))
        XCTAssertFalse(list.allows(address("10.1.2.4")))
        XCTAssertTrue(list.allows(address("fd12::1")))
        XCTAssertFalse(list.allows(address("fe80::1")))
        XCTAssertTrue(list.allows(address("::ffff:192.0.2.5")), "IPv4-mapped peers match IPv4 prefixes")
        XCTAssertTrue(try AddressAllowList([]).allows(address("203.0.113.9")), "empty list: everyone")
        XCTAssertTrue(try AddressAllowList(["0.0.0.0/0"]).allows(address("203.0.113.9")))
        for bad in ["host.example", "10.0.0.0/33", "fd00::/129", "10.0.0.0/x"] {
            XCTAssertThrowsError(try AddressAllowList([bad]), bad)
        }
    }
}
