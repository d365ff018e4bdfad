import Foundation
import QtfsControl
import XCTest
@testable import Qtinfo

/// qtinfo's help and tables against files in Golden/. After an intended change, rerun with
/// QTINFO_UPDATE_GOLDEN=1 and review the diff of the golden files.
final class QtinfoGoldenTests: XCTestCase {
    func testHelp() throws {
        try checkGolden("qtinfo-help.txt", Qtinfo.helpMessage(columns: 100) + "\n")
    }

    func testList() throws {
        try checkGolden("list.txt", TextOutput.list(Sample.results, directory: "/run/qtfs"))
    }

    func testAllTables() throws {
        var plan = try Plan(Qtinfo.parse(["-a"]))
        plan.showStats = true
        try checkGolden("all.txt", TextOutput.render(Sample.results, plan: plan, directory: "/run/qtfs"))
    }

    func testWhitelistTable() throws {
        let entries = [WhitelistEntry(type: "open", index: 0, path: "/proc"),
                       WhitelistEntry(type: "open", index: 1, path: "/var/lib/libvirt/qemu"),
                       WhitelistEntry(type: "mount", index: 0, path: "/var/lib/libvirt")]
        try checkGolden("whitelist.txt", TextOutput.whitelist("server-100", entries))
    }

    func testJSONSchema() throws {
        try checkGolden("report.json", JSONOutput.render(Sample.results) + "\n")
    }

    func testNothingRunning() {
        XCTAssertEqual(TextOutput.list([], directory: "/run/qtfs"),
                       "no qtfs server or mount is running here (no control socket in /run/qtfs)\n")
    }

    private func checkGolden(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().appendingPathComponent("Golden/\(name)").path
        if ProcessInfo.processInfo.environment["QTINFO_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(actual, expected, "\(name) differs from the golden file (QTINFO_UPDATE_GOLDEN=1 rewrites it)",
                       file: file, line: line)
    }
}

enum Sample {
    static let serverStatus: StatusReport = {
        var s = StatusReport(role: "server", pid: 100, version: "qtfs-swift 0.1.0, wire protocol v1", startedAt: 1_700_000_000,
                             uptimeSeconds: 3725, logLevel: "INFO", requestsInFlight: 3, bytesIn: 123_456, bytesOut: 9_876_543,
                             connections: [
                                ConnectionReport(id: 1, peer: "192.0.2.7:40112", state: "active", requestsInFlight: 3, bytesIn: 123_000, bytesOut: 9_876_000, crypt: "aes-256-gcm"),
                                ConnectionReport(id: 12, peer: "192.0.2.7:40114", state: "closed", requestsInFlight: 0, bytesIn: 456, bytesOut: 543, crypt: "none"),
                             ])
        s.listen = "0.0.0.0:12345"
        s.exports = ["/", "/srv"]
        return s
    }()

    static let fuseStatus: StatusReport = {
        var s = StatusReport(role: "fuse", pid: 2001, version: "qtfs-swift 0.1.0, wire protocol v1", startedAt: 1_700_000_100,
                             uptimeSeconds: 42, logLevel: "WARN", requestsInFlight: 0, bytesIn: 10, bytesOut: 20, connections: [])
        s.server = "192.0.2.1:12345"
        s.source = "/proc"
        s.mountpoint = "/another_rootfs/proc"
        return s
    }()

    static let lookup = OpStatsReport(op: "lookup", count: 1500, errors: 12, errnos: ["ENOENT": 10, "EACCES": 2],
                                      totalNanos: 90_000_000, maxNanos: 2_400_000,
                                      histogram: hist([14: 700, 15: 780, 16: 15, 21: 5]))
    static let read = OpStatsReport(op: "read", count: 3, errors: 0, errnos: [:], totalNanos: 2_100_000_000,
                                    maxNanos: 1_900_000_000, histogram: hist([10: 2, 30: 1]))

    static func hist(_ counts: [Int: UInt64]) -> [UInt64] {
        (0..<OpCounters.bucketCount).map { counts[$0] ?? 0 }
    }

    static let results: [ComponentResult] = [
        ComponentResult(name: "fuse-2001", role: "fuse", address: "/run/qtfs/fuse-2001.sock", state: "running",
                        status: fuseStatus, stats: []),
        ComponentResult(name: "fuse-3003", role: "fuse", address: "/run/qtfs/fuse-3003.sock", state: "stale",
                        error: "stale control socket /run/qtfs/fuse-3003.sock: process 3003 is gone (crashed?); remove it with: rm /run/qtfs/fuse-3003.sock"),
        ComponentResult(name: "server-100", role: "server", address: "/run/qtfs/server-100.sock", state: "running",
                        status: serverStatus, stats: [lookup, read]),
    ]
}

final class QtinfoArgumentTests: XCTestCase {
    func testUpstreamOptionalZ() {
        XCTAssertEqual(Arguments.normalize(["-z"]), ["-z", "all"])
        XCTAssertEqual(Arguments.normalize(["-z", "--json"]), ["-z", "all", "--json"])
        XCTAssertEqual(Arguments.normalize(["-zopen"]), ["-z", "open"])
        XCTAssertEqual(Arguments.normalize(["-z", "open"]), ["-z", "open"])
        XCTAssertEqual(Arguments.normalize(["--whitelist-list"]), ["--whitelist-list", "all"])
        XCTAssertEqual(Arguments.normalize(["ping", "-c", "2"]), ["ping", "--count", "2"])
    }

    func testPlans() throws {
        XCTAssertTrue(try Plan(Qtinfo.parse([])).listOnly)
        let p = try Plan(Qtinfo.parse(Arguments.normalize(["-w", "OPEN", "-x", "/srv"])))
        XCTAssertEqual(p.whitelist, .add("open", "/srv"))
        XCTAssertEqual(try Plan(Qtinfo.parse(Arguments.normalize(["-zmount"]))).whitelist, .list("mount"))
        XCTAssertEqual(try Plan(Qtinfo.parse(Arguments.normalize(["-z"]))).whitelist, .list(nil))
        XCTAssertEqual(try Plan(Qtinfo.parse(["-l", "warn"])).level, .warn)
        for bad in [["-l", "DEBG"], ["-x", "/a"], ["-w", "opne", "-x", "/a"], ["-w", "open", "-x", "rel"],
                    ["-w", "open", "-y", "-1"], ["-w", "open"]] {
            XCTAssertThrowsError(try Plan(Qtinfo.parse(bad)), "\(bad)")
        }
    }
}
