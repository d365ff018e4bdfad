// LOOKUP, GETATTR, MKDIR and CREATE over a scripted server: the answer the kernel gets
// and the lookup counts kept for it.
import CFuse
import Glibc
import QtfsClient
import QtfsProtocol
import QtfsTestSupport
import XCTest
@testable import QtfsFuseOps

final class EntryOpsTests: XCTestCase {
    let root = fuse_ino_t(FUSE_ROOT_ID)

    private func fixture(prefetch: Bool = false, _ script: @escaping (Opcode) -> ScriptAnswer) throws -> OpsFixture {
        let f = try OpsFixture { $0.prefetch = prefetch }
        f.server.script = { op, _, _ in
            switch script(op) {
            case .attr(let a): return .reply(f.encode(AttrReply(attr: a)))
            case .created(let a): return .reply(f.encode(CreateReply(handle: 9, attr: a)))
            case .empty: return .reply([])
            case .errno(let e): return .error(e)
            }
        }
        return f
    }

    func testLookupAnswersAnEntryAndCountsOneLookup() throws {
        let f = try fixture { $0 == .lookup ? .attr(Attr(dev: 1, ino: 55, size: 3, mode: 0o100644, nlink: 1)) : .errno(ENOSYS) }
        EntryOps.lookup(f.reply(), root, cname("x"))
        guard case .entry(let ino, let mode, _) = f.replies.last else { return XCTFail("\(String(describing: f.replies.last))") }
        XCTAssertEqual(mode, 0o100644)
        XCTAssertEqual(f.fs.nodes.path(UInt64(ino)).map { String(decoding: $0, as: UTF8.self) }, "x")
        EntryOps.forget(f.reply(), fuse_ino_t(ino), 1)
        XCTAssertEqual(f.replies.last, Answer.none)
        XCTAssertNil(f.fs.nodes.path(UInt64(ino)), "one FORGET undoes the one lookup")
    }

    func testMissingNameIsPlainENOENTWhenAbsencesAreNotKept() throws {
        let f = try fixture { _ in .errno(ENOENT) }
        EntryOps.lookup(f.reply(), root, cname("gone"))
        // not a negative entry with timeout 0: the kernel would treat that as valid until
        // the next jiffy and hide a name the host creates right after
        XCTAssertEqual(f.replies.last, .err(ENOENT))
    }

    func testOtherErrorsAreTheAnswerAndCountNothing() throws {
        let f = try fixture { _ in .errno(EACCES) }
        let before = f.fs.nodes.count
        EntryOps.lookup(f.reply(), root, cname("secret"))
        XCTAssertEqual(f.replies.last, .err(EACCES))
        XCTAssertEqual(f.fs.nodes.count, before)
    }

    /// The answer counts the request (no wrapper around the operation does): once per
    /// request, with its errno, and it is no longer in flight.
    func testTheAnswerCountsTheRequestInFuseStats() throws {
        let lookups = { FuseStats.registry.snapshot().first { $0.op == "lookup" } }
        let f = try fixture { _ in .errno(EACCES) }
        let before = lookups(), inFlight = FuseStats.inFlight.load(ordering: .relaxed)
        EntryOps.lookup(f.reply(), root, cname("secret"))
        EntryOps.lookup(f.reply(), root, cname(String(repeating: "n", count: 256)))
        let after = try XCTUnwrap(lookups())
        XCTAssertEqual(after.count, (before?.count ?? 0) + 2)
        XCTAssertEqual(after.errnos["EACCES"], (before?.errnos["EACCES"] ?? 0) + 1)
        XCTAssertEqual(after.errnos["ENAMETOOLONG"], (before?.errnos["ENAMETOOLONG"] ?? 0) + 1)
        XCTAssertEqual(FuseStats.inFlight.load(ordering: .relaxed), inFlight)
    }

    func testLongNameIsRefusedWithoutAskingTheServer() throws {
        let f = try fixture { _ in .attr(Attr(ino: 5)) }
        EntryOps.lookup(f.reply(), root, cname(String(repeating: "n", count: 256)))
        XCTAssertEqual(f.replies.last, .err(ENAMETOOLONG))
        XCTAssertEqual(f.server.count(.lookup), 0)
    }

    func testGetattrOfAnUnknownNodeIsStale() throws {
        let f = try fixture { _ in .attr(Attr(ino: 5)) }
        EntryOps.getattr(f.reply(), 999, nil)
        XCTAssertEqual(f.replies.last, .err(116))   // ESTALE
        XCTAssertEqual(f.server.count(.getattr), 0)
    }

    func testGetattrAnswersTheServersAttributes() throws {
        let f = try fixture { _ in .attr(Attr(dev: 1, ino: 1, size: 4096, mode: 0o40755, nlink: 2)) }
        EntryOps.getattr(f.reply(), root, nil)
        guard case .attr(_, let size) = f.replies.last else { return XCTFail("\(String(describing: f.replies.last))") }
        XCTAssertEqual(size, 4096)
    }

    /// The kernel gave up on the CREATE (interrupted): the new name's lookup count is given
    /// back and the host handle closed.
    func testCreateNobodyWaitsForGivesBackItsLookupAndHandle() throws {
        let f = try fixture { $0 == .create ? .created(Attr(dev: 1, ino: 77, mode: 0o100644, nlink: 1)) : .empty }
        let before = f.fs.nodes.count
        f.replies.refuse = true
        var fi = fuse_file_info()
        fi.flags = O_RDWR | O_CREAT
        FileOps.create(f.reply(), root, cname("new"), 0o644, &fi)
        XCTAssertEqual(f.fs.nodes.count, before)
        XCTAssertEqual(fi.fh, 0, "the open file was detached")
        XCTAssertTrue(eventually { f.server.count(.release) == 1 }, "the host handle is released")
    }

    /// A reply an operation forgets to send still answers: EIO, never a caller left waiting.
    func testAReplyDroppedWithoutAnAnswerSendsEIO() throws {
        let f = try fixture { _ in .errno(ENOSYS) }
        do { _ = f.reply() }
        XCTAssertEqual(f.replies.last, .err(EIO))
    }
}

enum ScriptAnswer { case attr(Attr), created(Attr), empty, errno(Int32) }
