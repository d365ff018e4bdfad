// Which UNLINK, RMDIR, RENAME and SETATTR requests the event loop makes itself (asked with
// `.mustNotWait`): those that free little on tmpfs or a local disk. What would free a big
// file's blocks, or runs on a pseudo file system, is refused (`WouldWait`) and left intact
// for a worker, which then makes it.
import Foundation
import Glibc
import QtfsProtocol
import XCTest
@testable import QtfsServerCore

final class LoopMetadataTests: XCTestCase {
    private var dirs: [String] = []

    override func tearDown() {
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
    }

    /// A fresh directory under `parent`, exported by a new backend.
    private func exported(under parent: String) throws -> (Backend, String) {
        let dir = parent + "/qtfs-loopmeta-\(getpid())-\(dirs.count)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        dirs.append(dir)
        return (Backend(exports: try Exports([ExportConfig(path: dir)])), dir)
    }

    private func file(_ path: String, size: Int) {
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0, path)
        XCTAssertEqual(ftruncate(fd, off_t(size)), 0)
        close(fd)
    }

    private func size(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    private func target(_ name: String) -> Target { Target(export: 0, name) }

    /// /var/tmp is on this machine's disk (ext4 here), /dev/shm is tmpfs: the two kinds the
    /// loop makes these changes on.
    func testTheTwoKindsAreRecognised() throws {
        XCTAssertEqual(PseudoCache().kind(of: try fd("/var/tmp")), .localDisk, "/var/tmp on a local disk file system")
        XCTAssertEqual(PseudoCache().kind(of: try fd("/dev/shm")), .memory)
        XCTAssertEqual(PseudoCache().kind(of: try fd("/proc")), .pseudo)
    }

    private func fd(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        XCTAssertGreaterThanOrEqual(fd, 0, path)
        addTeardownBlock { close(fd) }
        return fd
    }

    func testSmallUnlinksRunOnTheLoopBigOnesWaitForAWorker() throws {
        for parent in ["/var/tmp", "/dev/shm"] {
            let (backend, dir) = try exported(under: parent)
            file(dir + "/small", size: 4096)
            file(dir + "/big", size: 2 << 20)
            mkdir(dir + "/empty", 0o755)
            let root = Caller.root
            _ = try backend.unlink(PathRequest(caller: root, target: target("small")), directory: false, .mustNotWait)
            XCTAssertNil(size(dir + "/small"), parent)
            _ = try backend.unlink(PathRequest(caller: root, target: target("empty")), directory: true, .mustNotWait)
            XCTAssertNil(size(dir + "/empty"), parent)
            XCTAssertThrowsError(try backend.unlink(PathRequest(caller: root, target: target("big")), directory: false, .mustNotWait),
                                 parent) { XCTAssertTrue($0 is WouldWait, "\($0)") }
            XCTAssertEqual(size(dir + "/big"), 2 << 20, "left for the worker: \(parent)")
            _ = try backend.unlink(PathRequest(caller: root, target: target("big")), directory: false, .mayWait)
            XCTAssertNil(size(dir + "/big"), parent)
        }
    }

    func testRenameOnTheLoopUnlessItReplacesABigFile() throws {
        let (backend, dir) = try exported(under: "/var/tmp")
        file(dir + "/a", size: 10)
        file(dir + "/b", size: 20)
        file(dir + "/big", size: 2 << 20)
        func rename(_ from: String, _ to: String, _ flags: UInt32 = 0, _ w: Waiting) throws {
            _ = try backend.rename(TwoPathRequest(caller: .root, from: target(from), to: target(to), flags: flags), w)
        }
        try rename("a", "fresh", 0, .mustNotWait)
        XCTAssertEqual(size(dir + "/fresh"), 10)
        try rename("fresh", "b", TwoPathRequest.renameExchange, .mustNotWait)
        XCTAssertEqual(size(dir + "/fresh"), 20, "exchanged")
        XCTAssertThrowsError(try rename("b", "big", 0, .mustNotWait)) { XCTAssertTrue($0 is WouldWait, "\($0)") }
        XCTAssertEqual(size(dir + "/big"), 2 << 20, "nothing replaced on the loop")
        try rename("b", "big", 0, .mayWait)
        XCTAssertEqual(size(dir + "/big"), 10)
    }

    func testSetattrOnTheLoopUnlessATruncateFreesMuch() throws {
        let (backend, dir) = try exported(under: "/var/tmp")
        file(dir + "/f", size: 2 << 20)
        func setattr(_ valid: SetattrRequest.Valid, mode: UInt32 = 0, size: UInt64 = 0, _ w: Waiting) throws -> Attr {
            try backend.setattr(SetattrRequest(caller: .root, target: target("f"), valid: valid, mode: mode, size: size),
                                HandleTable(), w).attr
        }
        XCTAssertEqual(try setattr(.mode, mode: 0o600, .mustNotWait).mode & 0o7777, 0o600)
        XCTAssertEqual(try setattr(.size, size: 3 << 20, .mustNotWait).size, 3 << 20, "growing frees nothing")
        XCTAssertThrowsError(try setattr(.size, size: 0, .mustNotWait)) { XCTAssertTrue($0 is WouldWait, "\($0)") }
        XCTAssertEqual(size(dir + "/f"), 3 << 20)
        XCTAssertEqual(try setattr(.size, size: 0, .mayWait).size, 0)
        XCTAssertEqual(try setattr(.size, size: 100, .mustNotWait).size, 100)
    }

    /// A pseudo file system's changes may run kernel code that waits (a cgroup's removal):
    /// never on the loop.
    func testNothingOnAPseudoFileSystemRunsOnTheLoop() throws {
        let backend = Backend(exports: try Exports([ExportConfig(path: "/proc")]))
        let req = PathRequest(caller: .root, target: target("\(getpid())/no-such-entry"))
        XCTAssertThrowsError(try backend.unlink(req, directory: false, .mustNotWait)) { XCTAssertTrue($0 is WouldWait, "\($0)") }
    }
}
