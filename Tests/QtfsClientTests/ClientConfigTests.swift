import QtfsClient
import QtfsSystem
import XCTest

final class ClientConfigTests: XCTestCase {
    func parse(_ text: String) throws -> ClientConfig { try ClientConfig.parse(text, source: "c.conf") }

    func testSettingsCommentsAndSection() throws {
        let c = try parse("# DPU\n[client]\nserver = 192.0.2.10   # host\nport = 7000\nkey_file = /etc/qtfs/k\nconns = 8\n")
        XCTAssertEqual(c.server, ServerAddress(host: "192.0.2.10", port: 7000))
        XCTAssertEqual(c.keyFile, "/etc/qtfs/k")
        XCTAssertEqual(c.conns, 8)
    }

    func testServerWithItsOwnPortKeepsIt() throws {
        XCTAssertEqual(try parse("server = h:9\nport = 7000\n").server, ServerAddress(host: "h", port: 9))
        XCTAssertEqual(try parse("server = h\n").server?.port, 12345)
    }

    func testMistakesNameFileAndLine() {
        let cases = [
            ("server = h\nbogus = 1\n", "c.conf:2: unknown setting 'bogus'"),
            ("port = 0\n", "c.conf:1: port = '0' must be a number in 1...65535"),
            ("port = 7000\n", "c.conf: port = 7000 without server = HOST"),
            ("key_file = k\n", "c.conf:1: key_file = 'k' must be an absolute path"),
            ("conns = 65\n", "c.conf:1: conns = '65' must be a number in 1...64"),
            ("[server]\n", "c.conf:1: unknown section [server]"),
            ("server\n", "c.conf:1: expected 'key = value', got 'server'"),
        ]
        for (text, want) in cases {
            XCTAssertThrowsError(try parse(text), text) { e in
                XCTAssertTrue("\(e)".hasPrefix(want), "\(e) does not start with \(want)")
            }
        }
    }

    func testLeadingOptionsComeBeforeTheCommandLine() throws {
        let c = try parse("server = 192.0.2.10\nkey_file = /k\n")
        XCTAssertEqual(c.asLeadingOptions(["qtfs-fuse", "-o", "proc", "/proc", "/mnt"]),
                       ["qtfs-fuse", "-o", "server=192.0.2.10:12345,key=/k", "-o", "proc", "/proc", "/mnt"])
        XCTAssertEqual(ClientConfig().asLeadingOptions(["mount.qtfs", "/", "/mnt"]), ["mount.qtfs", "/", "/mnt"])
    }

    func testKernelRouteTakesTheLastServer() {
        let argv = ["mount.qtfs", "/", "/mnt", "-o", "server=192.0.2.10:12345,key=/k", "-o", "server=192.0.2.11:7000"]
        guard case .kernel(let req) = MountRouter.route(argv: argv, filesystems: "nodev\tqtfs\n", resolve: { _ in nil }) else {
            return XCTFail("not routed to the module")
        }
        XCTAssertEqual(req.data, "server=192.0.2.11:7000")
        XCTAssertEqual(req.keyFile, "/k")
    }

    func testServerOptionsPrecedence() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cc-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let conf = dir.appendingPathComponent("client.conf").path
        try "server = 192.0.2.10:7000\nkey_file = /k\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let fromFile = try ServerOptions(environment: [ClientConfig.pathVariable: conf])
        XCTAssertEqual(fromFile.server, ServerAddress(host: "192.0.2.10", port: 7000))
        XCTAssertEqual(fromFile.keyFile, "/k")
        let fromEnv = try ServerOptions(environment: [ClientConfig.pathVariable: conf, "CMD_NET_ADDR": "tcp://192.0.2.11:8000"])
        XCTAssertEqual(fromEnv.server, ServerAddress(host: "192.0.2.11", port: 8000))
        XCTAssertEqual(try ServerOptions(environment: [ClientConfig.pathVariable: ""]).server, ServerAddress(host: "127.0.0.1", port: 12345))
    }

    /// qtfs-rexec's and qtfs-run's crypt mode: client.conf, then --crypt or -o crypt=;
    /// without either, aead with a key and none without; aead without a key is refused.
    func testServerOptionsCrypt() throws {
        let conf = FileManager.default.temporaryDirectory.appendingPathComponent("crypt-\(getpid()).conf").path
        try "crypt = none\n".write(toFile: conf, atomically: true, encoding: .utf8)
        defer { unlink(conf) }
        var o = try ServerOptions(environment: [ClientConfig.pathVariable: conf])
        XCTAssertEqual(try o.cryptMode(hasKey: true), ClientCrypt.none)
        XCTAssertTrue(try o.apply("--crypt") { "aead" })
        XCTAssertEqual(try o.cryptMode(hasKey: true), .aead)
        XCTAssertThrowsError(try o.cryptMode(hasKey: false), "aead needs a key")
        XCTAssertTrue(try o.apply("-o") { "server=h:1,crypt=none" })
        XCTAssertEqual(try o.cryptMode(hasKey: false), ClientCrypt.none)
        XCTAssertThrowsError(try o.apply("--crypt") { "tls" })

        let plain = try ServerOptions(environment: [ClientConfig.pathVariable: ""])
        XCTAssertEqual(try plain.cryptMode(hasKey: true), .aead)
        XCTAssertEqual(try plain.cryptMode(hasKey: false), ClientCrypt.none)
    }
}
