// Which pseudo files an OPEN_READ reads on the event loop (PseudoReads): a process's stat,
// status and statm are read there; cmdline, /proc/stat and sysfs still go to a worker.
import Foundation
import Glibc
import QtfsProtocol
import XCTest
@testable import QtfsServerCore

final class PseudoReadsTests: XCTestCase {
    private let proc = PseudoCache.procMagic

    func testOnlyAProcessesCounterFilesNeverWait() {
        for path in ["1/stat", "1/status", "1/statm", "42/task/42/status", "proc/7/stat"] {
            XCTAssertTrue(PseudoReads.neverWait(path: Array(path.utf8), magic: proc), path)
        }
        for path in ["stat", "1/cmdline", "1/environ", "self/stat", "net/stat", "1/stat/x", "1x/stat", "/stat"] {
            XCTAssertFalse(PseudoReads.neverWait(path: Array(path.utf8), magic: proc), path)
        }
        XCTAssertFalse(PseudoReads.neverWait(path: Array("1/stat".utf8), magic: 0x6265_6572))   // sysfs
    }

    /// Through the backend, as the loop asks (`.mustNotWait`): /proc/PID/stat comes back with
    /// its content; cmdline and /proc/stat are refused for a worker to make again.
    func testOpenReadOnTheLoopReadsOnlyTheNeverWaitingFiles() throws {
        let backend = Backend(exports: try Exports([ExportConfig(path: "/proc", readOnly: true)]))
        let handles = HandleTable()
        let pid = String(getpid())
        func openRead(_ path: String, _ waiting: Waiting) throws -> OpenReadReply {
            let open = OpenRequest(caller: .root, target: Target(export: 0, path), flags: UInt32(O_RDONLY))
            return try backend.openRead(OpenReadRequest(open, maxBytes: UInt32(Wire.maxOpenContent)), handles, waiting)
        }
        let stat = try openRead("\(pid)/stat", .mustNotWait)
        XCTAssertNotEqual(stat.open.flags & OpenReadReply.hasContent, 0)
        XCTAssertTrue(String(decoding: stat.content, as: UTF8.self).hasPrefix("\(pid) ("))
        let status = try openRead("\(pid)/status", .mustNotWait)
        XCTAssertTrue(String(decoding: status.content, as: UTF8.self).contains("\nPid:\t\(pid)\n"))
        // Read in one go on the loop (a short read is its end): still all of it.
        let local = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let lastKey = local.split(separator: "\n").last!.split(separator: ":").first!
        let lastLine = String(decoding: status.content, as: UTF8.self).split(separator: "\n").last!
        XCTAssertTrue(lastLine.hasPrefix(lastKey + ":"), "ends with the line local reads end with")
        XCTAssertEqual(status.content.last, UInt8(ascii: "\n"))
        for path in ["\(pid)/cmdline", "stat"] {
            XCTAssertThrowsError(try openRead(path, .mustNotWait), path) { XCTAssertTrue($0 is WouldWait, path) }
            XCTAssertFalse(try openRead(path, .mayWait).content.isEmpty, path)
        }
    }

    /// A pseudo file longer than the first page read is read whole (the buffer grows).
    func testPseudoContentPastOnePage() throws {
        let backend = Backend(exports: try Exports([ExportConfig(path: "/proc", readOnly: true)]))
        let open = OpenRequest(caller: .root, target: Target(export: 0, "\(getpid())/maps"), flags: UInt32(O_RDONLY))
        let got = try backend.openRead(OpenReadRequest(open, maxBytes: UInt32(Wire.maxOpenContent)), HandleTable(), .mayWait)
        XCTAssertGreaterThan(got.content.count, 4096, "this test process maps more than a page's worth of lines")
        let lines = String(decoding: got.content, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.last, "", "the content ends with a whole line")
        for line in lines.dropLast() {   // "start-end perms offset dev inode [path]", in address order
            XCTAssertNotNil(line.firstIndex(of: "-"), String(line))
            XCTAssertGreaterThanOrEqual(line.split(separator: " ").count, 5, String(line))
        }
    }
}
