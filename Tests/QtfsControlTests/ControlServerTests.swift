import Foundation
import Logging
import XCTest
@testable import QtfsControl

/// The control endpoint over a real unix socket in a temporary directory.
final class ControlServerTests: XCTestCase {
    var dir = ""
    var server: ControlServer!
    let stats = StatsRegistry(names: ["lookup"])
    let level = LogLevelHandle(.info)

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "qtinfo-ctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let target = ControlTarget(role: "server", version: QtfsVersion.text, stats: stats,
                                   connections: { [ConnectionReport(id: 1, peer: "p", state: "active", requestsInFlight: 2, bytesIn: 3, bytesOut: 4)] },
                                   logLevel: level) { $0.listen = "127.0.0.1:1" }
        server = try ControlServer(target: target, directory: dir, logger: Logger(label: "test"))
    }

    override func tearDown() {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testSocketIsPrivate() throws {
        let attrs = try FileManager.default.attributesOfItem(atPath: server.path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertTrue(server.path.hasSuffix("/server-\(getpid()).sock"))
    }

    func testStatusStatsClearAndLogLevel() throws {
        stats.record(0, errno: 2, nanos: 100)
        let status = try ControlClient.call(socket: server.path, ControlRequest(command: .status)).status
        XCTAssertEqual(status?.role, "server")
        XCTAssertEqual(status?.requestsInFlight, 2)
        XCTAssertEqual(status?.listen, "127.0.0.1:1")
        XCTAssertEqual(status?.logLevel, "INFO")
        let s = try ControlClient.call(socket: server.path, ControlRequest(command: .stats)).stats
        XCTAssertEqual(s?.first?.errnos, ["ENOENT": 1])
        XCTAssertTrue(try ControlClient.call(socket: server.path, ControlRequest(command: .clear)).ok)
        XCTAssertEqual(stats.snapshot(), [])
        let set = try ControlClient.call(socket: server.path, ControlRequest(command: .setLogLevel, level: "debug"))
        XCTAssertEqual(set.logLevel, "DEBUG")
        XCTAssertEqual(level.loggerLevel, .debug)
        let bad = try ControlClient.call(socket: server.path, ControlRequest(command: .setLogLevel, level: "LOUD"))
        XCTAssertFalse(bad.ok)
        XCTAssertEqual(level.loggerLevel, .debug)
        let wl = try ControlClient.call(socket: server.path, ControlRequest(command: .whitelistList))
        XCTAssertFalse(wl.ok)
        XCTAssertTrue(wl.error?.contains("runs without a whitelist") == true)
    }

    /// Garbage and a silent client get an error or a timeout, and the next client is served.
    func testMisbehavingClientsDoNotStopTheEndpoint() throws {
        let garbage = try rawConnect()
        _ = "not json\n".withCString { write(garbage, $0, 9) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = read(garbage, &buf, buf.count)
        XCTAssertGreaterThan(n, 0)
        XCTAssertTrue(String(decoding: buf[0..<max(0, n)], as: UTF8.self).contains("malformed control request"))
        close(garbage)
        let silent = try rawConnect()   // sends nothing: dropped after the endpoint's read timeout
        defer { close(silent) }
        XCTAssertTrue(try ControlClient.call(socket: server.path, ControlRequest(command: .status), timeoutSeconds: 10).ok)
    }

    func testStaleSocketIsReportedWithWhatToDo() throws {
        let path = dir + "/fuse-999999999.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        _ = StreamSocket.withAddress(path) { bind(fd, $0, $1) }
        XCTAssertThrowsError(try ControlClient.call(socket: path, ControlRequest(command: .status))) { e in
            XCTAssertEqual("\(e)", "stale control socket \(path): process 999999999 is gone (crashed?); remove it with: rm \(path)")
        }
    }

    private func rawConnect() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard StreamSocket.withAddress(server.path, { connect(fd, $0, $1) }) == 0 else { throw ControlError("connect") }
        return fd
    }
}
