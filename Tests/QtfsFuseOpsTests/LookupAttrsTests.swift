// With attribute timeout 0, the GETATTR that follows a LOOKUP in the same stat(2) is
// answered from that LOOKUP's attributes (LookupAttrs.swift): once, for the same user,
// and not after anything that may have changed the file was answered. The same holds for
// the fstat(2) after a read-only open or an opendir, with the attributes the open brought.
import CFuse
import Glibc
import QtfsClient
import QtfsProtocol
import QtfsTestSupport
import XCTest
@testable import QtfsFuseOps

final class LookupAttrsTests: XCTestCase {
    let root = fuse_ino_t(FUSE_ROOT_ID)

    /// A strict mount (timeouts 0) over a server whose file grows by one byte per GETATTR.
    private func strict(attrTimeout: Double = 0) throws -> OpsFixture {
        let f = try OpsFixture { $0.attrTimeout = attrTimeout; $0.entryTimeout = 0; $0.prefetch = false }
        f.fs.lookupAttrs.window = 60   // a busy machine must not turn a hit into a miss
        var size: UInt64 = 10
        f.server.script = { op, _, _ in
            if op == .getattr { size += 1 }
            return .reply(f.encode(AttrReply(attr: Attr(dev: 1, ino: 55, size: size, mode: 0o100644, nlink: 1))))
        }
        return f
    }

    /// LOOKUP of "x" as the kernel's path walk does it; the node's id.
    private func lookup(_ f: OpsFixture) -> fuse_ino_t {
        EntryOps.lookup(f.reply(), root, cname("x"))
        guard case .entry(let ino, _, _) = f.replies.last else { XCTFail("\(String(describing: f.replies.last))"); return 0 }
        return fuse_ino_t(ino)
    }

    private func getattrSize(_ f: OpsFixture, _ ino: fuse_ino_t) -> Int? {
        EntryOps.getattr(f.reply(), ino, nil)
        guard case .attr(_, let size) = f.replies.last else { return nil }
        return size
    }

    func testTheGetattrAfterALookupIsAnsweredFromItOnce() throws {
        let f = try strict()
        let ino = lookup(f)
        XCTAssertEqual(getattrSize(f, ino), 10, "the LOOKUP's attributes")
        XCTAssertEqual(f.server.count(.getattr), 0)
        XCTAssertEqual(getattrSize(f, ino), 11, "a second GETATTR asks the server")
        XCTAssertEqual(f.server.count(.getattr), 1)
    }

    func testAnAnsweredChangeInBetweenSendsTheGetattr() throws {
        let f = try strict()
        let ino = lookup(f)
        FuseReply(OpaquePointer(bitPattern: 0x99990), fs: f.fs, op: .setattr).error(0)   // a chmod, say
        XCTAssertEqual(getattrSize(f, ino), 11)
        XCTAssertEqual(f.server.count(.getattr), 1)
    }

    func testAnotherUserIsNotAnsweredFromIt() throws {
        let f = try strict()
        let ino = lookup(f)
        f.replies.ctx = RequestContext(uid: 1000, gid: 1000, pid: 4343, umask: 0o022)
        XCTAssertEqual(getattrSize(f, ino), 11)
        XCTAssertEqual(f.server.count(.getattr), 1)
    }

    func testNothingIsKeptWhenTheKernelCachesAttributes() throws {
        let f = try strict(attrTimeout: 1)
        let ino = lookup(f)
        XCTAssertEqual(getattrSize(f, ino), 11)
        XCTAssertEqual(f.server.count(.getattr), 1)
    }

    /// A strict mount whose server opens "x" (size 77 at the open) and grows it by one
    /// byte per GETATTR.
    private func opening() throws -> (OpsFixture, fuse_ino_t) {
        let f = try strict()
        let opened = Attr(dev: 1, ino: 55, size: 77, mode: 0o100644, nlink: 1)
        var size: UInt64 = 10
        f.server.script = { op, _, _ in
            switch op {
            case .openRead: return .reply(f.encode(OpenReadReply(OpenReply(handle: 3, attr: opened), content: [])))
            case .open, .opendir: return .reply(f.encode(OpenReply(handle: 4, attr: opened)))
            default:
                if op == .getattr { size += 1 }
                return .reply(f.encode(AttrReply(attr: Attr(dev: 1, ino: 55, size: size, mode: 0o100644, nlink: 1))))
            }
        }
        let ino = lookup(f)
        XCTAssertEqual(getattrSize(f, ino), 10, "the LOOKUP's attributes, used up")
        return (f, ino)
    }

    private func open(_ f: OpsFixture, _ ino: fuse_ino_t, _ flags: Int32) {
        var fi = fuse_file_info()
        fi.flags = flags
        FileOps.open(f.reply(), ino, &fi)
        XCTAssertEqual(f.replies.last, .open(fh: fi.fh))
    }

    func testTheFstatAfterAReadOnlyOpenIsAnsweredWithTheOpensAttributesOnce() throws {
        let (f, ino) = try opening()
        open(f, ino, O_RDONLY)
        XCTAssertEqual(getattrSize(f, ino), 77, "what the open found")
        XCTAssertEqual(f.server.count(.getattr), 0)
        XCTAssertEqual(getattrSize(f, ino), 11, "a second GETATTR asks the server")
    }

    func testAnOpenForWritingKeepsNothing() throws {
        let (f, ino) = try opening()
        open(f, ino, O_WRONLY)
        XCTAssertEqual(getattrSize(f, ino), 11)
        XCTAssertEqual(f.server.count(.getattr), 1)
    }

    func testAnotherUsersFstatAfterAnOpenAsksTheServer() throws {
        let (f, ino) = try opening()
        open(f, ino, O_RDONLY)
        f.replies.ctx = RequestContext(uid: 1000, gid: 1000, pid: 4343, umask: 0o022)
        XCTAssertEqual(getattrSize(f, ino), 11)
    }

    func testTheFstatAfterAnOpendirIsAnsweredWithItsAttributes() throws {
        let (f, _) = try opening()
        var fi = fuse_file_info()
        DirOps.opendir(f.reply(), root, &fi)
        XCTAssertEqual(getattrSize(f, root), 77)
        XCTAssertEqual(f.server.count(.getattr), 0)
    }
}
