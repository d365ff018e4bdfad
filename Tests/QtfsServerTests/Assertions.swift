// Assertions on what the server answered.
import QtfsTestSupport
import XCTest

/// Asserts that `body` fails with the server errno `expected`.
func XCTAssertErrno<T>(_ expected: Int32, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected errno \(expected), got success", file: file, line: line)
    } catch let e as ServerError {
        XCTAssertEqual(e.errno, expected, "errno", file: file, line: line)
    } catch {
        XCTFail("expected errno \(expected), got \(error)", file: file, line: line)
    }
}
