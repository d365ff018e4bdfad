import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest

final class ReaddirTests: ServerTestCase {
    /// Lists a whole directory in chunks of `budget` bytes, resuming with cookies.
    func list(_ c: TestClient, _ dir: String, plus: Bool, budget: UInt32) throws -> [DirEntry] {
        let h = try c.expect(.opendir, PathRequest(caller: .root, target: c.t(dir)), OpenReply.self).handle
        defer { _ = try? c.status(.releasedir, HandleRequest(handle: h)) }
        var all: [DirEntry] = [], cookie: UInt64 = 0
        for _ in 0..<100_000 {
            let r = try c.expect(.readdir, ReaddirRequest(handle: h, cookie: cookie, maxBytes: budget, plus: plus), ReaddirReply.self)
            all += r.entries
            if r.eof { return all }
            XCTAssertFalse(r.entries.isEmpty, "a reply that is not eof carries entries")
            guard let last = r.entries.last else { break }
            cookie = last.cookie
        }
        XCTFail("listing never reached eof")
        return all
    }

    func testLargeDirectoryIsCompleteWithCookies() throws {
        try FileManager.default.createDirectory(atPath: host("big"), withIntermediateDirectories: false)
        let names = (0..<2000).map { "entry-\($0)-" + String(repeating: "n", count: $0 % 40) }
        for n in names { XCTAssertTrue(FileManager.default.createFile(atPath: host("big/" + n), contents: nil)) }
        let c = try client()
        for (plus, budget) in [(false, UInt32(4096)), (true, UInt32(4096)), (false, UInt32(0)), (true, UInt32(1 << 20))] {
            let entries = try list(c, "big", plus: plus, budget: budget)
            let got = entries.map { String(decoding: $0.name, as: UTF8.self) }
            XCTAssertEqual(got.count, names.count + 2, "plus=\(plus) budget=\(budget)")
            XCTAssertEqual(Set(got), Set(names + [".", ".."]))
            if plus {
                for e in entries where e.name != Array(".".utf8) && e.name != Array("..".utf8) {
                    XCTAssertEqual((e.attr?.mode ?? 0) & 0o170000, 0o100000)   // regular file
                    XCTAssertEqual(e.attr?.ino, e.ino)
                }
                XCTAssertNil(entries.first { $0.name == Array(".".utf8) }?.attr)
            }
        }
    }

    func testReaddirRespectsBudgetAndTypes() throws {
        let c = try client()
        _ = try c.mkdir("d")
        _ = try c.mkdir("d/sub")
        _ = try c.create("d/file")
        let h = try c.expect(.opendir, PathRequest(caller: .root, target: c.t("d")), OpenReply.self).handle
        let one = try c.expect(.readdir, ReaddirRequest(handle: h, cookie: 0, maxBytes: 1, plus: false), ReaddirReply.self)
        XCTAssertEqual(one.entries.count, 1, "at least one entry even over budget")
        XCTAssertFalse(one.eof)
        let rest = try c.expect(.readdir, ReaddirRequest(handle: h, cookie: one.entries[0].cookie, maxBytes: 65536, plus: true), ReaddirReply.self)
        XCTAssertTrue(rest.eof)
        let byName = Dictionary(uniqueKeysWithValues: (one.entries + rest.entries).map { (String(decoding: $0.name, as: UTF8.self), $0) })
        XCTAssertEqual(Set(byName.keys), [".", "..", "sub", "file"])
        XCTAssertEqual(byName["sub"]?.type, 4)    // DT_DIR
        XCTAssertEqual(byName["file"]?.type, 8)   // DT_REG
        XCTAssertEqual((byName["sub"]?.attr?.mode ?? 0) & 0o170000, 0o040000)
        XCTAssertErrno(ENOTDIR, try c.expect(.readdir, ReaddirRequest(handle: try c.create("f2").handle, cookie: 0, maxBytes: 100, plus: false), ReaddirReply.self))
    }
}
