import XCTest
@testable import QtfsControl

final class OpStatsTests: XCTestCase {
    func testBucketsArePowersOfTwo() {
        XCTAssertEqual(OpCounters.bucket(0), 0)
        XCTAssertEqual(OpCounters.bucket(1), 0)
        XCTAssertEqual(OpCounters.bucket(2), 1)
        XCTAssertEqual(OpCounters.bucket(3), 1)
        XCTAssertEqual(OpCounters.bucket(1024), 10)
        XCTAssertEqual(OpCounters.bucket(UInt64.max), OpCounters.bucketCount - 1)
    }

    func testRecordsCountErrnosHistogramAndMax() {
        let r = StatsRegistry(names: [nil, "lookup", "read"])
        for _ in 0..<98 { r.record(1, errno: 0, nanos: 1000) }        // bucket 9: [512, 1024)
        r.record(1, errno: 2, nanos: 5000)                            // ENOENT, bucket 12
        r.record(1, errno: 9999, nanos: 70_000)                       // out-of-table errno
        r.record(0, errno: 0, nanos: 1)                               // unnamed: not reported
        r.record(77, errno: 0, nanos: 1)                              // hostile opcode: ignored
        let s = r.snapshot()
        XCTAssertEqual(s.map(\.op), ["lookup"])
        let l = s[0]
        XCTAssertEqual(l.count, 100)
        XCTAssertEqual(l.errors, 2)
        XCTAssertEqual(l.errnos, ["ENOENT": 1, "EOTHER": 1])
        XCTAssertEqual(l.histogram[9], 98)
        XCTAssertEqual(l.histogram[12], 1)
        XCTAssertEqual(l.histogram[16], 1)
        XCTAssertEqual(l.histogram.reduce(0, +), l.count)
        XCTAssertEqual(l.maxNanos, 70_000)
        XCTAssertEqual(l.totalNanos, 98 * 1000 + 5000 + 70_000)
        XCTAssertEqual(l.p50Nanos, 1023)      // upper bound of bucket 9
        XCTAssertEqual(l.p99Nanos, 8191)      // the 99th request is the 5 us one
    }

    func testClearZeroesEverything() {
        let r = StatsRegistry(names: ["read"])
        r.record(0, errno: 5, nanos: 123)
        r.clear()
        XCTAssertEqual(r.snapshot(), [])
        r.record(0, errno: 0, nanos: 10)
        XCTAssertEqual(r.snapshot().first?.count, 1)
        XCTAssertEqual(r.snapshot().first?.maxNanos, 10)
    }

    func testConcurrentRecordingLosesNothing() {
        let r = StatsRegistry(names: ["op"])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for n in 0..<10_000 { r.record(0, errno: n % 10 == 0 ? 5 : 0, nanos: UInt64(n + i)) }
        }
        let s = r.snapshot()[0]
        XCTAssertEqual(s.count, 80_000)
        XCTAssertEqual(s.errors, 8_000)
        XCTAssertEqual(s.histogram.reduce(0, +), 80_000)
        XCTAssertEqual(s.maxNanos, 9_999 + 7)
    }

    func testLogLevelNamesAndHandle() {
        XCTAssertEqual(QtfsLogLevel(name: "debug"), .debug)
        XCTAssertNil(QtfsLogLevel(name: "DEBG"))
        let h = LogLevelHandle(.info)
        XCTAssertEqual(h.level, .info)
        h.set(QtfsLogLevel.none)
        XCTAssertNil(h.loggerLevel)
        XCTAssertEqual(h.level, QtfsLogLevel.none)
        h.set(QtfsLogLevel.warn)
        XCTAssertEqual(h.loggerLevel, .warning)
    }
}
