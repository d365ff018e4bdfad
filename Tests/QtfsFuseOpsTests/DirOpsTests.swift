// readdir and readdirplus over a scripted server: which entries reach the kernel, and
// the lookup counts readdirplus takes for them.
import CFuse
import Glibc
import QtfsClient
import QtfsProtocol
import XCTest
@testable import QtfsFuseOps

final class DirOpsTests: XCTestCase {
    private func file(_ cookie: UInt64, _ n: String) -> DirEntry {
        DirEntry(cookie: cookie, ino: 100 + cookie, type: 8, name: n, attr: Attr(ino: 100 + cookie, mode: 0o100644, nlink: 1))
    }

    /// Opens the root directory through DirOps.opendir; the handle is in `fi`.
    private func openRoot(_ f: OpsFixture) -> UnsafeMutablePointer<fuse_file_info> {
        let fi = UnsafeMutablePointer<fuse_file_info>.allocate(capacity: 1)
        fi.initialize(to: fuse_file_info())
        DirOps.opendir(f.reply(), fuse_ino_t(FUSE_ROOT_ID), fi)
        XCTAssertEqual(f.replies.last, .open(fh: fi.pointee.fh))
        return fi
    }

    /// The first chunk's entries fit and are counted; the next chunk fails. The kernel gets
    /// only the error, so the lookups counted for the first chunk's entries must be given
    /// back: otherwise those nodes stay in the table forever (no FORGET will ever come).
    func testFailedLaterChunkGivesBackTheLookupsOfEntriesAlreadyAdded() throws {
        let f = try OpsFixture()
        f.server.script = { op, payload, _ in
            switch op {
            case .opendir: return .reply(f.encode(OpenReply(handle: 7)))
            case .readdir:
                let q = try! ReaddirRequest.decode(payload)
                if q.cookie == 0 { return .reply(f.encode(ReaddirReply(eof: false, entries: [self.file(1, "a"), self.file(2, "b")]))) }
                return .error(EIO)
            default: return .error(ENOSYS)
            }
        }
        let fi = openRoot(f)
        let before = f.fs.nodes.count
        DirOps.readdirplus(f.reply(), fuse_ino_t(FUSE_ROOT_ID), 64 * 1024, 0, fi)
        XCTAssertEqual(f.replies.last, .err(EIO))
        XCTAssertEqual(f.fs.nodes.count, before, "a and b were never sent: their lookups must not stay counted")
    }

    /// Entries that do not fit in the kernel's buffer are not counted; those sent are.
    func testOnlyEntriesThatFitAreCounted() throws {
        let f = try OpsFixture()
        f.server.script = { op, _, _ in
            switch op {
            case .opendir: return .reply(f.encode(OpenReply(handle: 7)))
            case .readdir: return .reply(f.encode(ReaddirReply(eof: true, entries: [self.file(1, "a"), self.file(2, "b")])))
            default: return .error(ENOSYS)
            }
        }
        let fi = openRoot(f)
        let before = f.fs.nodes.count
        let one = fuse_add_direntry_plus(nil, nil, 0, "a", nil, 0)   // the size of one entry
        DirOps.readdirplus(f.reply(), fuse_ino_t(FUSE_ROOT_ID), one + 8, 0, fi)
        guard case .buf(let b) = f.replies.last else { return XCTFail("\(String(describing: f.replies.last))") }
        XCTAssertEqual(b.count, one, "one entry sent")
        XCTAssertEqual(f.fs.nodes.count, before + 1, "only the sent entry is counted")
    }

    /// A failing first chunk is the error, with nothing counted.
    func testReaddirErrorIsTheAnswer() throws {
        let f = try OpsFixture()
        f.server.script = { op, _, _ in op == .opendir ? .reply(f.encode(OpenReply(handle: 7))) : .error(EACCES) }
        let fi = openRoot(f)
        DirOps.readdir(f.reply(), fuse_ino_t(FUSE_ROOT_ID), 4096, 0, fi)
        XCTAssertEqual(f.replies.last, .err(EACCES))
    }
}
