// The Prometheus export: what the mirror renders for recorded requests, and the HTTP
// endpoint serving it (a real socket on loopback).
import Glibc
import Logging
import XCTest
import QtfsControl
import QtfsTestSupport
@testable import QtfsMetrics

final class MetricsExportTests: XCTestCase {
    func testRequestsErrorsAndDurationsAreRenderedPerOperation() {
        let m = PrometheusMirror(prefix: "qtfs_test", ops: ["lookup", nil, "read"])
        m.record(op: "lookup", errno: 0, nanos: 20_000)
        m.record(op: "lookup", errno: 2, nanos: 40_000)
        m.record(op: "read", errno: 0, nanos: 3_000_000)
        let text = m.registry.emitToString()
        XCTAssertTrue(text.contains(#"qtfs_test_requests_total{op="lookup"} 2"#), text)
        XCTAssertTrue(text.contains(#"qtfs_test_requests_total{op="read"} 1"#), text)
        XCTAssertTrue(text.contains(#"qtfs_test_request_errors_total{op="lookup",errno="ENOENT"} 1"#), text)
        XCTAssertFalse(text.contains(#"request_errors_total{op="read""#), "no error counter without an error")
        XCTAssertTrue(text.contains(#"qtfs_test_request_duration_seconds_count{op="read"} 1"#), text)
        XCTAssertTrue(text.contains(#"qtfs_test_request_duration_seconds_bucket{op="lookup",le="0.000025"} 1"#), text)
        XCTAssertTrue(text.contains(#"qtfs_test_request_duration_seconds_bucket{op="lookup",le="0.00005"} 2"#), text)
    }

    func testStatsRegistryFeedsTheMirror() {
        let m = PrometheusMirror(prefix: "qtfs_test", ops: ["getattr"])
        let stats = StatsRegistry(names: ["getattr"], mirror: m)
        stats.record(0, errno: 13, nanos: 1_000)
        XCTAssertTrue(m.registry.emitToString().contains(#"qtfs_test_request_errors_total{op="getattr",errno="EACCES"} 1"#))
    }

    /// One HTTP/1.1 GET to 127.0.0.1:`port`; the whole response.
    private func get(_ port: UInt16, _ path: String) -> String {
        let fd = Loopback.connect(port: port)
        defer { close(fd) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        let req = Array("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = req.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    func testEndpointServesMetricsAndRefreshesGaugesFirst() throws {
        let m = PrometheusMirror(prefix: "qtfs_test", ops: ["open"])
        m.record(op: "open", errno: 0, nanos: 1_000)
        let gauge = m.gauge("connections")
        let e = try MetricsEndpoint(address: "127.0.0.1:0", mirror: m, logger: Logger(label: "test")) { gauge.record(3) }
        defer { e.stop() }
        let r = get(e.port, "/metrics")
        XCTAssertTrue(r.hasPrefix("HTTP/1.1 200 OK\r\n"), r)
        XCTAssertTrue(r.contains("qtfs_test_connections 3"), "gauge set before the scrape: \(r)")
        XCTAssertTrue(r.contains(#"qtfs_test_requests_total{op="open"} 1"#), r)
        XCTAssertTrue(get(e.port, "/").hasPrefix("HTTP/1.1 404 Not Found\r\n"))
    }

    func testABadAddressSaysWhatToGive() {
        let m = PrometheusMirror(prefix: "qtfs_test", ops: [])
        XCTAssertThrowsError(try MetricsEndpoint(address: "localhost", mirror: m, logger: Logger(label: "test")) {}) {
            XCTAssertTrue("\($0)".contains("is not HOST:PORT"), "\($0)")
        }
        XCTAssertThrowsError(try MetricsEndpoint(address: "host.example:9464", mirror: m, logger: Logger(label: "test")) {}) {
            XCTAssertTrue("\($0)".contains("IPv4 address"), "\($0)")
        }
    }
}
