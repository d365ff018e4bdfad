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
}
