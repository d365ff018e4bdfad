import Foundation
import Glibc
import QtfsProtocol
import XCTest

final class FileOpsTests: ServerTestCase {
    func testCreateWriteReadAndErrors() throws {
        let c = try client()
        XCTAssertEqual(try c.mkdir("d").mode & 0o170000, 0o040000)
        XCTAssertErrno(EEXIST, try c.mkdir("d"))
        let cr = try c.create("d/f", mode: 0o640)
        XCTAssertEqual(cr.attr.mode & 0o7777, 0o640)
        XCTAssertErrno(EEXIST, try c.create("d/f"))
        XCTAssertEqual(try c.write(cr.handle, 0, Array("hello".utf8)), 5)
        XCTAssertEqual(try c.read(cr.handle, 0, 100), Array("hello".utf8))
        XCTAssertEqual(try c.read(cr.handle, 5, 100), [])
        let attr = try c.expect(.getattr, GetattrRequest(caller: .root, target: c.t(""), handle: cr.handle), AttrReply.self).attr
        XCTAssertEqual(attr.size, 5)
        XCTAssertEqual(attr.ino, try c.lookup("d/f").ino)
        XCTAssertEqual(try String(contentsOfFile: host("d/f"), encoding: .utf8), "hello")
        XCTAssertErrno(ENOENT, try c.lookup("d/missing"))
        XCTAssertErrno(ENOTEMPTY, try c.expect(.rmdir, PathRequest(caller: .root, target: c.t("d")), EmptyReply.self))
        try c.release(cr.handle)
        XCTAssertErrno(EBADF, try c.release(cr.handle))
        XCTAssertErrno(EBADF, try c.read(cr.handle, 0, 1))
        _ = try c.expect(.unlink, PathRequest(caller: .root, target: c.t("d/f")), EmptyReply.self)
        _ = try c.expect(.rmdir, PathRequest(caller: .root, target: c.t("d")), EmptyReply.self)
        XCTAssertErrno(ENOENT, try c.lookup("d"))
    }

    /// LOOKUP_OPEN (qtfs.ko's atomic open): a regular file comes back looked up, opened and
    /// read in one answer; anything else only looked up; a missing name is ENOENT.
    func testLookupOpen() throws {
        let c = try client()
        try "hello".write(toFile: host("f"), atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: host("d"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: host("l"), withDestinationPath: "f")
        func lookupOpen(_ path: String, _ flags: Int32 = O_RDONLY) throws -> LookupOpenReply {
            let open = OpenRequest(caller: .root, target: c.t(path), flags: UInt32(flags))
            return try c.expect(.lookupOpen, OpenReadRequest(open, maxBytes: UInt32(Wire.maxOpenContent)), LookupOpenReply.self)
        }
        let file = try lookupOpen("f")
        XCTAssertEqual(file.attr, try c.lookup("f"))
        XCTAssertNotEqual(file.opened.open.handle, 0)
        XCTAssertNotEqual(file.opened.open.flags & OpenReadReply.hasContent, 0)
        XCTAssertEqual(file.opened.content, Array("hello".utf8))
        XCTAssertEqual(try c.read(file.opened.open.handle, 1, 10), Array("ello".utf8))
        try c.release(file.opened.open.handle)
        let writable = try lookupOpen("f", O_WRONLY)
        XCTAssertNotEqual(writable.opened.open.handle, 0)
        XCTAssertEqual(writable.opened.content, [], "no content for a write open")
        XCTAssertEqual(try c.write(writable.opened.open.handle, 5, Array("!".utf8)), 1)
        XCTAssertEqual(try String(contentsOfFile: host("f"), encoding: .utf8), "hello!")
        for (path, type) in [("d", UInt32(0o040000)), ("l", UInt32(0o120000))] {
            let other = try lookupOpen(path)
            XCTAssertEqual(other.attr.mode & 0o170000, type, path)
            XCTAssertEqual(other.opened.open.handle, 0, "\(path) is looked up, not opened")
        }
        XCTAssertErrno(ENOENT, try lookupOpen("missing"))
        XCTAssertErrno(EBADF, try c.read(99_999, 0, 1))
    }

    func testLargeReadWrite() throws {
        let c = try client()
        let h = try c.create("big").handle
        let data = (0..<Wire.maxIOSize).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        XCTAssertEqual(try c.write(h, 0, data), UInt32(data.count))
        XCTAssertEqual(try c.write(h, UInt64(data.count), Array(data[0..<1000])), 1000)
        XCTAssertEqual(try c.read(h, 0, UInt32(Wire.maxIOSize)), data)
        XCTAssertEqual(try c.read(h, UInt64(data.count), UInt32(Wire.maxIOSize)), Array(data[0..<1000]))
        XCTAssertErrno(EINVAL, try c.read(h, 0, UInt32(Wire.maxIOSize + 1)))
    }

    func testRenameFlagsAndLink() throws {
        let c = try client()
        try "A".write(toFile: host("a"), atomically: false, encoding: .utf8)
        try "B".write(toFile: host("b"), atomically: false, encoding: .utf8)
        let rename = { (from: String, to: String, flags: UInt32) in
            try c.expect(.rename, TwoPathRequest(caller: .root, from: c.t(from), to: c.t(to), flags: flags), EmptyReply.self)
        }
        XCTAssertErrno(EEXIST, try rename("a", "b", TwoPathRequest.renameNoReplace))
        _ = try rename("a", "b", TwoPathRequest.renameExchange)
        XCTAssertEqual(try String(contentsOfFile: host("a"), encoding: .utf8), "B")
        XCTAssertEqual(try String(contentsOfFile: host("b"), encoding: .utf8), "A")
        _ = try rename("a", "c", TwoPathRequest.renameNoReplace)
        XCTAssertErrno(ENOENT, try c.lookup("a"))
        let linked = try c.expect(.link, TwoPathRequest(caller: .root, from: c.t("c"), to: c.t("c2")), AttrReply.self).attr
        let orig = try c.lookup("c")
        XCTAssertEqual(linked.ino, orig.ino)
        XCTAssertEqual(linked.dev, orig.dev)
        XCTAssertEqual(linked.nlink, 2)
    }

    func testSymlinksAreNeverFollowed() throws {
        let c = try client()
        let link = try c.expect(.symlink, SymlinkRequest(caller: .root, target: c.t("toroot"), linkTarget: "/"), AttrReply.self).attr
        XCTAssertEqual(link.mode & 0o170000, 0o120000)
        XCTAssertEqual(try c.expect(.readlink, PathRequest(caller: .root, target: c.t("toroot")), ReadlinkReply.self).target, Array("/".utf8))
        XCTAssertEqual(try c.lookup("toroot").mode & 0o170000, 0o120000)
        XCTAssertErrno(ELOOP, try c.lookup("toroot/etc"))
        XCTAssertErrno(ELOOP, try c.open("toroot", flags: O_RDONLY))
        XCTAssertErrno(ENOTDIR, try c.expect(.opendir, PathRequest(caller: .root, target: c.t("toroot")), OpenReply.self))   // O_DIRECTORY|O_NOFOLLOW on a symlink
        // CREATE through a dangling symlink must not create its target.
        _ = try c.expect(.symlink, SymlinkRequest(caller: .root, target: c.t("dangling"), linkTarget: root + "/escaped"), AttrReply.self)
        XCTAssertErrno(ELOOP, try c.create("dangling", flags: O_RDWR))
        XCTAssertFalse(FileManager.default.fileExists(atPath: host("escaped")))
        XCTAssertErrno(EINVAL, try c.expect(.readlink, PathRequest(caller: .root, target: c.t("")), ReadlinkReply.self))
    }

    func testPathShapeErrors() throws {
        let c = try client()
        for bad in ["..", "../etc", "a/../b", "./a", "a//b", "/etc", "a/"] {
            XCTAssertErrno(EINVAL, try c.lookup(bad), )
        }
        XCTAssertErrno(ENAMETOOLONG, try c.lookup(String(repeating: "x", count: 256)))
        XCTAssertErrno(ENAMETOOLONG, try c.mkdir(String(repeating: "y", count: 300)))
        let longPath = Array(repeating: "z", count: 2100).joined(separator: "/")   // 4199 bytes
        XCTAssertErrno(ENAMETOOLONG, try c.lookup(longPath))
    }

    func testSetattr() throws {
        let c = try client()
        let h = try c.create("f").handle
        _ = try c.write(h, 0, Array("0123456789".utf8))
        let mtime = Timespec(seconds: 1_000_000_000, nanoseconds: 5)
        let req = SetattrRequest(caller: .root, target: c.t("f"), valid: [.mode, .uid, .gid, .size, .mtime, .atimeNow],
                                 mode: 0o600, uid: 1234, gid: 4321, size: 3, mtime: mtime)
        let a = try c.expect(.setattr, req, AttrReply.self).attr
        XCTAssertEqual(a.mode & 0o7777, 0o600)
        XCTAssertEqual(a.uid, 1234)
        XCTAssertEqual(a.gid, 4321)
        XCTAssertEqual(a.size, 3)
        XCTAssertEqual(a.mtime, mtime)
        XCTAssertGreaterThan(a.atime.seconds, 1_500_000_000)
        // Through the handle: ftruncate.
        let b = try c.expect(.setattr, SetattrRequest(caller: .root, target: c.t("f"), handle: h, valid: [.size], size: 1), AttrReply.self).attr
        XCTAssertEqual(b.size, 1)
        // chmod on a symlink's name must not touch the link's target.
        _ = try c.expect(.symlink, SymlinkRequest(caller: .root, target: c.t("l"), linkTarget: "f"), AttrReply.self)
        _ = try? c.expect(.setattr, SetattrRequest(caller: .root, target: c.t("l"), valid: [.mode], mode: 0o777), AttrReply.self)
        XCTAssertEqual(try c.lookup("f").mode & 0o7777, 0o600)
    }

    func testXattrs() throws {
        let c = try client()
        _ = try c.create("x")
        let set = SetxattrRequest(caller: .root, target: c.t("x"), name: "user.qtfs", flags: 0, value: Array("value".utf8))
        let st = try c.status(.setxattr, set)
        if st == EOPNOTSUPP { throw XCTSkip("no user xattrs on \(root)") }
        XCTAssertEqual(st, 0)
        let len = try c.expect(.getxattr, XattrGetRequest(caller: .root, target: c.t("x"), name: "user.qtfs", size: 0), XattrReply.self)
        XCTAssertEqual(len.size, 5)
        XCTAssertEqual(len.data, [])
        let v = try c.expect(.getxattr, XattrGetRequest(caller: .root, target: c.t("x"), name: "user.qtfs", size: 64), XattrReply.self)
        XCTAssertEqual(v.data, Array("value".utf8))
        XCTAssertErrno(ERANGE, try c.expect(.getxattr, XattrGetRequest(caller: .root, target: c.t("x"), name: "user.qtfs", size: 2), XattrReply.self))
        let list = try c.expect(.listxattr, XattrGetRequest(caller: .root, target: c.t("x"), name: "", size: 1024), XattrReply.self)
        XCTAssertTrue(String(decoding: list.data, as: UTF8.self).contains("user.qtfs"))
        XCTAssertEqual(try c.status(.setxattr, SetxattrRequest(caller: .root, target: c.t("x"), name: "user.qtfs", flags: 1, value: [1])), EEXIST)
        XCTAssertEqual(try c.status(.removexattr, RemovexattrRequest(caller: .root, target: c.t("x"), name: "user.qtfs")), 0)
        XCTAssertErrno(ENODATA, try c.expect(.getxattr, XattrGetRequest(caller: .root, target: c.t("x"), name: "user.qtfs", size: 64), XattrReply.self))
        XCTAssertEqual(try c.status(.removexattr, RemovexattrRequest(caller: .root, target: c.t("x"), name: "user.qtfs")), ENODATA)
    }

    func testStatfsAccessLseekFallocate() throws {
        let c = try client()
        let fs = try c.expect(.statfs, PathRequest(caller: .root, target: c.t("")), StatfsReply.self)
        var local = statvfs()
        XCTAssertEqual(statvfs(root, &local), 0)
        XCTAssertEqual(UInt(fs.blockSize), local.f_bsize)
        XCTAssertNotEqual(fs.fsType, 0)
        XCTAssertGreaterThan(fs.blocks, 0)
        XCTAssertEqual(try c.status(.access, AccessRequest(caller: .root, target: c.t(""), mask: 7)), 0)
        let h = try c.create("sparse").handle
        XCTAssertEqual(try c.write(h, 1 << 20, [1]), 1)   // a hole, then one byte of data
        let fa = try c.status(.fallocate, FallocateRequest(handle: h, mode: 0, offset: 2 << 20, length: 1 << 20))
        if fa == EOPNOTSUPP { throw XCTSkip("fallocate unsupported here") }
        XCTAssertEqual(fa, 0)
        let size = try c.expect(.getattr, GetattrRequest(caller: .root, target: c.t("sparse")), AttrReply.self).attr.size
        XCTAssertEqual(size, 3 << 20)
        let data = try c.expect(.lseek, LseekRequest(handle: h, offset: 0, whence: 3), LseekReply.self).offset
        XCTAssertEqual(data, 1 << 20, "SEEK_DATA skips the leading hole")
        let hole = try c.expect(.lseek, LseekRequest(handle: h, offset: 0, whence: 4), LseekReply.self).offset
        XCTAssertEqual(hole, 0)
        XCTAssertErrno(ENXIO, try c.expect(.lseek, LseekRequest(handle: h, offset: 4 << 20, whence: 3), LseekReply.self))
        XCTAssertEqual(try c.status(.fsync, FsyncRequest(handle: h, dataOnly: true)), 0)
        XCTAssertEqual(try c.status(.flush, HandleRequest(handle: h)), 0)
        XCTAssertEqual(try c.status(.flush, HandleRequest(handle: 9999)), EBADF)
    }

    func testMknodFifoAndPseudoFiles() throws {
        let c = try client()
        let fifo = try c.expect(.mknod, MknodRequest(caller: .root, target: c.t("p"), mode: 0o010644), AttrReply.self).attr
        XCTAssertEqual(fifo.mode & 0o170000, 0o010000)
        XCTAssertEqual(fifo.flags & Attr.flagPseudo, 0)
    }
}
