// Starts a server in-process on 127.0.0.1:0 exporting a fresh temporary directory.
import Foundation
import Logging
import QtfsServerCore
import QtfsTestSupport
import XCTest

class ServerTestCase: XCTestCase {
    var root = ""
    var server: QtfsServer!

    func extraExports() -> [ExportConfig] { [] }
    /// Settings a test case adds to the default configuration.
    func configure(_ cfg: inout ServerConfig) {}

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("qtfs-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o777)
        var cfg = ServerConfig()
        cfg.port = 0
        cfg.workers = 4
        cfg.exports = [ExportConfig(path: root)] + extraExports()
        configure(&cfg)
        var logger = Logger(label: "qtfs-server-test")
        logger.logLevel = .critical
        server = try QtfsServer(config: cfg, logger: logger)
        try server.start()
    }

    override func tearDownWithError() throws {
        server?.stop()
        server = nil
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A connected client that has done HELLO and MOUNT of the export root.
    func client() throws -> TestClient {
        let c = try TestClient(port: server.port)
        _ = try c.hello()
        _ = try c.mount(root)
        return c
    }

    func host(_ rel: String) -> String { root + "/" + rel }

    /// Waits (bounded) for a condition that another thread makes true.
    func eventually(_ what: String, timeout: Double = 5, _ cond: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !cond() {
            if Date() > deadline { return XCTFail("timed out waiting for \(what)") }
            usleep(2000)
        }
    }
}
