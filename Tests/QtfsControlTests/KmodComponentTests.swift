import QtfsControl
import XCTest
@testable import Qtinfo

/// qtfs.ko as a qtinfo component: the mapping of the module's netlink answers onto the
/// control protocol (the netlink exchange itself runs in the kmod VM test).
final class KmodComponentTests: XCTestCase {
    typealias K = KernelModuleSource

    func testStatusHasOneConnectionPerMount() {
        let s = K.Status(logLevel: .info, lateReplies: 2, liveRequests: 0, mounts: [
            K.Mount(source: "/srv", server: "10.0.2.2:12345", state: .up, inflight: 3, exportID: 1, reconnects: 0),
            K.Mount(source: "/proc", server: "10.0.2.2:12345", state: .dead, inflight: 0, exportID: 2, reconnects: 1),
        ])
        let r = KmodComponent.report(s)
        XCTAssertEqual(r.role, "kmod")
        XCTAssertEqual(r.logLevel, "INFO")
        XCTAssertEqual(r.requestsInFlight, 3)
        XCTAssertEqual(r.connections.map(\.state), ["active", "reconnecting"])
        XCTAssertEqual(r.connections.map(\.peer), ["10.0.2.2:12345 /srv", "10.0.2.2:12345 /proc"])
        XCTAssertEqual(r.exports ?? [], ["10.0.2.2:12345:/srv", "10.0.2.2:12345:/proc"])
        XCTAssertEqual(TextOutput.location(r), "netlink:qtfs, mounts: 10.0.2.2:12345:/srv,10.0.2.2:12345:/proc")
    }

    /// `qtinfo kmod status` names each mount's sealing: the suite, or none for plaintext.
    func testKmodStatusLineShowsTheConnectionsMode() {
        let s = K.Status(logLevel: .warn, lateReplies: 0, liveRequests: 0, mounts: [
            K.Mount(source: "/srv", server: "10.0.2.2:12345", state: .up, inflight: 0, exportID: 1, reconnects: 0,
                    crypt: .chacha20poly1305),
            K.Mount(source: "/x", server: "10.0.2.2:12346", state: .up, inflight: 0, exportID: 2, reconnects: 1),
        ])
        XCTAssertEqual(KmodReport.status(s).split(separator: "\n").suffix(2), [
            "mount /srv server 10.0.2.2:12345 state up inflight 0 reconnects 0 export 1 crypt chacha20-poly1305",
            "mount /x server 10.0.2.2:12346 state up inflight 0 reconnects 1 export 2 crypt none",
        ])
    }

    /// A module without histograms: its `errors` already counts interrupted waits.
    func testStatsOfAnOlderModuleKeepCountErrorsAndTotal() {
        let o = K.OpStats(code: 10, name: "lookup", sent: 10, errors: 3, interrupted: 2, latencyNs: 7000)
        let r = KmodComponent.report(o)
        XCTAssertEqual(r.op, "lookup")
        XCTAssertEqual(r.count, 10)
        XCTAssertEqual(r.errors, 3)
        XCTAssertEqual(r.totalNanos, 7000)
        XCTAssertEqual(r.p50Nanos, 0)
        XCTAssertEqual(o.meanLatencyNs, 1400)
    }

    /// 8 answers: 6 in bucket 10 (1024…2047 ns), 2 in bucket 20; 3 failures.
    static let detailed = K.OpStats(
        code: 10, name: "lookup", sent: 10, errors: 1, interrupted: 1, latencyNs: 2_100_000,
        detail: K.OpStats.Detail(maxNs: 1_500_000, failed: 3,
                                 histogram: Array(repeating: 0, count: 10) + [6] + Array(repeating: 0, count: 9) + [2],
                                 errnos: [2: 2, 4: 1]))

    func testStatsWithHistogramAndErrnosAreReportedAsTheOtherComponents() {
        let r = KmodComponent.report(Self.detailed)
        XCTAssertEqual(r.errors, 3)
        XCTAssertEqual(r.errnos, ["ENOENT": 2, "EINTR": 1])
        XCTAssertEqual(r.histogram.count, OpCounters.bucketCount)
        XCTAssertEqual(r.histogram[10], 6)
        XCTAssertEqual(r.p50Nanos, 2047)
        XCTAssertEqual(r.p99Nanos, 1_500_000)      // bucket 20's bound, capped at max
        XCTAssertEqual(r.maxNanos, 1_500_000)
        XCTAssertEqual(Self.detailed.meanLatencyNs, 2_100_000 / 8)
    }

    func testKmodStatsLineCarriesPercentilesAndErrnos() {
        XCTAssertEqual(KmodReport.stats([Self.detailed]),
                       "op lookup sent 10 errors 1 interrupted 1 mean_us 262 p50_us 2 p99_us 1500 max_us 1500 errnos EINTR:1,ENOENT:2\n")
        XCTAssertEqual(KmodReport.stats([K.OpStats(code: 1, name: "statfs", sent: 1, errors: 0, interrupted: 0, latencyNs: 5000,
                                                   detail: .init(maxNs: 5000, failed: 0, histogram: [], errnos: [:]))]),
                       "op statfs sent 1 errors 0 interrupted 0 mean_us - p50_us 0 p99_us 0 max_us 5 errnos -\n")
    }

    func testLogLevelNames() {
        XCTAssertEqual(KmodComponent.kernelLevel("DEBUG"), .debug)
        XCTAssertEqual(KmodComponent.kernelLevel("trace"), .debug)
        XCTAssertEqual(KmodComponent.kernelLevel("NONE"), K.LogLevel.none)
        XCTAssertEqual(KmodComponent.kernelLevel("3"), .info)
        XCTAssertNil(KmodComponent.kernelLevel("loud"))
        XCTAssertEqual(KmodComponent.levelName(.warn), "WARN")
    }

    func testWhitelistAndBadLevelAreRefusedWithoutTheKernel() throws {
        let c = KmodComponent()
        let w = try c.send(ControlRequest(command: .whitelistList))
        XCTAssertFalse(w.ok)
        XCTAssertTrue(w.error?.contains("qtfs-server") == true)
        let l = try c.send(ControlRequest(command: .setLogLevel, level: "loud"))
        XCTAssertFalse(l.ok)
    }

    func testDiscoveredOnlyWhenTheKernelListsQtfs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kmod-src-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let with = dir.appendingPathComponent("with"), without = dir.appendingPathComponent("without")
        try "nodev\tproc\nnodev\tqtfs\n".write(to: with, atomically: true, encoding: .utf8)
        try "nodev\tproc\nnodev\tfuse\n".write(to: without, atomically: true, encoding: .utf8)
        XCTAssertEqual(try KmodSource(filesystems: with.path).discover().map(\.name), ["kmod"])
        XCTAssertTrue(try KmodSource(filesystems: without.path).discover().isEmpty)
    }
}
