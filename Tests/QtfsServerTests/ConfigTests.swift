import Foundation
import QtfsServerCore
import XCTest

final class ConfigTests: XCTestCase {
    func testConfigFile() throws {
        var cfg = ServerConfig()
        try cfg.apply(configText: """
            # qtfs server
            listen = 0.0.0.0
            port = 4000   # trailing comment
            workers = 8
            max_connections = 10
            log_level = debug

            [export]
            path = /srv
            read_only = yes
            root_squash = yes

            [export]
            path = /
            """)
        XCTAssertEqual(cfg.listen, "0.0.0.0")
        XCTAssertEqual(cfg.port, 4000)
        XCTAssertEqual(cfg.workers, 8)
        XCTAssertEqual(cfg.maxConnections, 10)
        XCTAssertEqual(cfg.logLevel, .debug)
        XCTAssertEqual(cfg.exports, [ExportConfig(path: "/srv", readOnly: true, rootSquash: true), ExportConfig(path: "/")])
    }

    func testConfigErrorsNameTheLine() {
        var cfg = ServerConfig()
        XCTAssertThrowsError(try cfg.apply(configText: "port = 99999", source: "f.conf")) {
            XCTAssertTrue("\($0)".contains("f.conf:1"), "\($0)")
        }
        XCTAssertThrowsError(try cfg.apply(configText: "\n[export]\nread_only = yes\n"))
        XCTAssertThrowsError(try cfg.apply(configText: "bogus = 1"))
    }

    func testLoadFromFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qtfs-\(UUID().uuidString).conf").path
        try "port = 1234\n[export]\npath = /tmp\nroot_squash = on\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var cfg = ServerConfig()
        try cfg.load(file: path)
        XCTAssertEqual(cfg.port, 1234)
        XCTAssertEqual(cfg.exports, [ExportConfig(path: "/tmp", rootSquash: true)])
        XCTAssertThrowsError(try cfg.load(file: path + ".missing")) { XCTAssertTrue("\($0)".contains("--config"), "\($0)") }
    }

    func testStartTwiceIsRefused() throws {
        var cfg = ServerConfig()
        cfg.port = 0
        cfg.exports = [ExportConfig(path: "/tmp")]
        let s = try QtfsServer(config: cfg, logger: .init(label: "twice"))
        try s.start()
        defer { s.stop() }
        XCTAssertThrowsError(try s.start())
        XCTAssertNotEqual(s.port, 0)
    }

    func testExportSpec() throws {
        XCTAssertEqual(try ServerConfig.parseExport("/srv:ro,root_squash"), ExportConfig(path: "/srv", readOnly: true, rootSquash: true))
        XCTAssertEqual(try ServerConfig.parseExport("/"), ExportConfig(path: "/"))
        XCTAssertThrowsError(try ServerConfig.parseExport("/srv:bogus"))
    }

    func testPortInUseSaysWhatToDo() throws {
        var cfg = ServerConfig()
        cfg.port = 0
        cfg.exports = [ExportConfig(path: "/tmp")]
        let a = try QtfsServer(config: cfg, logger: .init(label: "a"))
        try a.start()
        defer { a.stop() }
        cfg.port = a.port
        let b = try QtfsServer(config: cfg, logger: .init(label: "b"))
        XCTAssertThrowsError(try b.start()) { XCTAssertTrue("\($0)".contains("--port"), "\($0)") }
    }
}
