import Foundation
import XCTest
@testable import QtfsControl
@testable import Qtinfo

/// One deadline bounds a whole control call, whatever the other end does.
final class ControlClientDeadlineTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "qtinfo-deadline-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A listening socket at `dir/name` that nobody accepts on.
    private func listener(_ name: String, backlog: Int32) throws -> (Int32, String) {
        let path = "\(dir)/\(name)", fd = try StreamSocket.make()
        guard StreamSocket.withAddress(path, { bind(fd, $0, $1) }) == 0, listen(fd, backlog) == 0 else {
            throw ControlError("cannot listen on \(path)")
        }
        return (fd, path)
    }

    /// A stopped component whose backlog is full: connect itself blocks.
    func testConnectGivesUpAtTheDeadline() throws {
        let (fd, path) = try listener("server-1.sock", backlog: 0)
        defer { close(fd) }
        var queued: [Int32] = []
        defer { queued.forEach { close($0) } }
        while queued.count < 64 {   // fill the backlog: the next connect would wait
            let c = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            let rc = StreamSocket.withAddress(path) { connect(c, $0, $1) }
            queued.append(c)
            if rc != 0 { break }
        }
        XCTAssertThrowsError(try ControlClient.call(socket: path, ControlRequest(command: .status), timeoutSeconds: 0.5)) {
            XCTAssertEqual("\($0)", "\(path) did not answer within 0.5 s; the component may be hung or stopped (check its log and its process state)")
        }
    }

    /// A peer that answers one byte at a time, slower than the deadline allows, never
    /// completes the answer within it: each read's timeout is what is left, not a fresh one.
    func testATricklingPeerCannotStretchTheDeadline() throws {
        let (fd, path) = try listener("server-2.sock", backlog: 4)
        defer { close(fd) }
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { return }
            defer { close(c) }
            for _ in 0..<40 {   // 4 s of "{", then EOF
                usleep(100_000)
                if send(c, "{", 1, Int32(MSG_NOSIGNAL)) != 1 { return }   // the caller gave up
            }
        }.start()
        XCTAssertThrowsError(try ControlClient.call(socket: path, ControlRequest(command: .status), timeoutSeconds: 1)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path) did not answer within 1 s"), "\($0)")
        }
        done.wait()
    }

    func testMountPointsAreComparedWithoutLookingThemUp() {
        XCTAssertEqual(Selection.canonical("/a//b/./c/../d/"), "/a/b/d")
        XCTAssertEqual(Selection.canonical("/../x"), "/x")
        XCTAssertEqual(Selection.canonical("/"), "/")
        // A path that does not exist is still normalised (nothing is looked up).
        XCTAssertEqual(Selection.canonical("/no/such/dir/.."), "/no/such")
    }
}
