// The rules for what the kernel may cache (CacheRules.swift), and LOOKUP applying them to
// pseudo files: names kept, attributes and absences never.
import CFuse
import Glibc
import QtfsClient
import QtfsProtocol
import QtfsTestSupport
import XCTest
import QtfsSystem
@testable import QtfsFuseOps

final class CacheRulesTests: XCTestCase {
    let root = UInt64(FUSE_ROOT_ID)
    let rules = CacheRules(entryTimeout: 1, attrTimeout: 2, negativeTimeout: 3, procMode: false)
    let procRules = CacheRules(entryTimeout: 1, attrTimeout: 2, negativeTimeout: 3, procMode: true)

    func testOrdinaryNamesAreKeptForTheEntryTimeout() {
        XCTAssertEqual(rules.entry(parent: root, name: Array("etc".utf8), pseudo: false), 1)
        XCTAssertEqual(procRules.entry(parent: root, name: Array("1234".utf8), pseudo: false), 0, "asker-dependent, whatever it is")
    }

    func testPseudoNamesAreKeptAtLeastAMinuteUnlessNoNameIsKept() {
        XCTAssertEqual(rules.entry(parent: root, name: Array("proc".utf8), pseudo: true), CacheRules.pseudoNameMinimum)
        XCTAssertEqual(rules.entry(parent: 77, name: Array("cpu.shares".utf8), pseudo: true), CacheRules.pseudoNameMinimum)
        XCTAssertEqual(rules.entry(parent: root, name: Array("1234".utf8), pseudo: true), CacheRules.pseudoNameMinimum,
                       "a pid under a / or plain /proc mount")
        let strict = CacheRules(entryTimeout: 0, attrTimeout: 0, negativeTimeout: 0, procMode: false)
        XCTAssertEqual(strict.entry(parent: 77, name: Array("cpu.shares".utf8), pseudo: true), 0)
        let long = CacheRules(entryTimeout: 600, attrTimeout: 1, negativeTimeout: 0, procMode: false)
        XCTAssertEqual(long.entry(parent: 77, name: Array("cpu.shares".utf8), pseudo: true), 600)
    }

    func testAPidAtTheRootOfAProcModeMountIsNeverKept() {
        XCTAssertEqual(procRules.entry(parent: root, name: Array("1234".utf8), pseudo: true), 0, "it is the asker's own pid for one process")
        XCTAssertEqual(procRules.entry(parent: 77, name: Array("1234".utf8), pseudo: true), CacheRules.pseudoNameMinimum,
                       "below the root a number is just a name")
        XCTAssertEqual(procRules.entry(parent: root, name: Array("cpuinfo".utf8), pseudo: true), CacheRules.pseudoNameMinimum)
        XCTAssertEqual(procRules.entry(parent: root, name: Array("12a".utf8), pseudo: true), CacheRules.pseudoNameMinimum)
    }

    func testPseudoAttributesAreNeverKept() {
        XCTAssertEqual(rules.attr(pseudo: true), 0)
        XCTAssertEqual(rules.attr(pseudo: false), 2)
    }

    func testAbsenceInAPseudoDirectoryIsNeverKept() {
        XCTAssertEqual(rules.absence(parentPseudo: true), 0)
        XCTAssertEqual(rules.absence(parentPseudo: false), 3)
    }

    func testPseudoListingsAreNeitherCachedNorPrefetched() {
        XCTAssertFalse(rules.cachesListing(pseudo: true))
        XCTAssertTrue(rules.cachesListing(pseudo: false))
        XCTAssertFalse(rules.prefetches(dirPseudo: true))
        XCTAssertTrue(rules.prefetches(dirPseudo: false))
    }

    // MARK: LOOKUP

    private let pseudoDir = Attr(dev: 9, ino: 40, mode: 0o40555, nlink: 2, flags: Attr.flagPseudo)

    /// A fixture whose server finds "proc" (a pseudo directory) at the root and nothing else.
    private func fixture(negativeTimeout: Double = 0) throws -> OpsFixture {
        let f = try OpsFixture { $0.negativeTimeout = negativeTimeout; $0.prefetch = false }
        f.server.script = { [pseudoDir] op, payload, _ in
            guard op == .lookup else { return .error(ENOSYS) }
            // The path ends the request: "proc" is found, "proc/4242" and "nothing" are not.
            return payload.suffix(4) == Array("proc".utf8) ? .reply(f.encode(AttrReply(attr: pseudoDir))) : .error(ENOENT)
        }
        return f
    }

    private func lookupProc(_ f: OpsFixture) throws -> fuse_ino_t {
        EntryOps.lookup(f.reply(), fuse_ino_t(root), cname("proc"))
        guard case .entry(let ino, _, let timeout) = f.replies.last, ino != 0 else {
            XCTFail("proc not found: \(String(describing: f.replies.last))")
            throw Errno(ENOENT)
        }
        XCTAssertEqual(timeout, CacheRules.pseudoNameMinimum, "a pseudo name is kept")
        return fuse_ino_t(ino)
    }

    func testAPseudoNameIsKept() throws {
        _ = try lookupProc(try fixture())
    }

    func testAnAbsentNameInAPseudoDirectoryIsNotKeptWhateverNegativeTimeoutSays() throws {
        let f = try fixture(negativeTimeout: 30)
        let proc = try lookupProc(f)
        EntryOps.lookup(f.reply(), proc, cname("4242"))
        XCTAssertEqual(f.replies.last, .err(ENOENT), "a plain ENOENT: a 0 s negative entry still holds until the next jiffy")
        EntryOps.lookup(f.reply(), fuse_ino_t(root), cname("nothing"))
        XCTAssertEqual(f.replies.last, .entry(ino: 0, mode: 0, entryTimeout: 30), "an ordinary directory keeps absences as asked")
    }

    /// Proc mode: the kernel may not keep a root pid name, so the client answers its
    /// LOOKUPs for the host while the host's answer is younger than entry_timeout.
    func testProcModeRootPidsAreAnsweredByTheClientForTheEntryTimeout() throws {
        let f = try OpsFixture { $0.proc = true; $0.prefetch = false }
        let pidDir = Attr(dev: 9, ino: 41, mode: 0o40555, nlink: 9, flags: Attr.flagPseudo)
        f.server.script = { op, _, _ in op == .lookup ? .reply(f.encode(AttrReply(attr: pidDir))) : .error(ENOSYS) }
        for _ in 0..<3 {
            EntryOps.lookup(f.reply(), fuse_ino_t(root), cname("1234"))
            guard case .entry(let ino, _, let timeout) = f.replies.last else { return XCTFail("\(String(describing: f.replies.last))") }
            XCTAssertNotEqual(ino, 0)
            XCTAssertEqual(timeout, 0, "the kernel must ask again: the name is another process's own link")
        }
        XCTAssertEqual(f.server.count(.lookup), 1, "the host was asked once")
    }
}

final class KeptPidNamesTests: XCTestCase {
    private var now = 50.0
    private let pid = Array("77".utf8)
    private let dir = Attr(dev: 3, ino: 8, mode: 0o40555, flags: Attr.flagPseudo)

    private func kept() -> KeptPidNames { KeptPidNames(lifetime: 1, clock: { [unowned self] in self.now })! }

    func testAFoundNameIsKeptForTheLifetime() {
        let k = kept()
        XCTAssertNil(k.attr(pid))
        k.note(pid, dir)
        now += 0.9
        XCTAssertEqual(k.attr(pid), dir)
        now += 0.2
        XCTAssertNil(k.attr(pid), "expired")
    }

    func testAGoneNameIsForgotten() {
        let k = kept()
        k.note(pid, dir)
        k.forget(pid)
        XCTAssertNil(k.attr(pid))
    }

    func testNothingIsKeptWithEntryTimeoutZero() {
        XCTAssertNil(KeptPidNames(lifetime: 0))
    }
}

final class PidFileNamesTests: XCTestCase {
    private var now = 50.0
    private let stat = Array("stat".utf8), status = Array("status".utf8), cmdline = Array("cmdline".utf8)
    private let file = Attr(dev: 3, ino: 9, mode: 0o100444, flags: Attr.flagPseudo)
    private let root = Caller.root, user = Caller(uid: 1000, gid: 1000, groups: [27])

    private func names(lifetime: Double = 5) -> PidFileNames {
        PidFileNames(lifetime: lifetime, clock: { [unowned self] in self.now })!
    }

    func testAnAnswerSentAheadAnswersOnceForTheSameUserAndParent() {
        let p = names()
        p.keep(status, in: 40, for: root, file)
        XCTAssertNil(p.take(status, in: 40, for: user), "another user asks the host")
        XCTAssertNil(p.take(status, in: 41, for: root), "another directory")
        XCTAssertNil(p.take(cmdline, in: 40, for: root), "another name")
        XCTAssertEqual(p.take(status, in: 40, for: root), file)
        XCTAssertNil(p.take(status, in: 40, for: root), "used once: the kernel keeps the name from here")
        p.keep(status, in: 40, for: root, file)
        var moreGroups = root
        moreGroups.groups = [4]
        XCTAssertNil(p.take(status, in: 40, for: moreGroups), "other groups: another answer")
    }

    func testAnswersLastAtMostASecond() {
        let p = names(lifetime: 30)
        p.keep(status, in: 40, for: root, file)
        p.keep(cmdline, in: 40, for: root, file)
        now += 0.9
        XCTAssertEqual(p.take(status, in: 40, for: root), file)
        now += 0.2
        XCTAssertNil(p.take(cmdline, in: 40, for: root), "expired after 1 s although names live 30 s")
        XCTAssertNil(PidFileNames(lifetime: 0), "entry_timeout=0: nothing answered ahead")
    }

    func testOnlyNamesNotKeptAreLookedUpAhead() {
        let p = names()
        XCTAssertEqual(p.siblings(of: stat, in: 40, for: root), [status, cmdline])
        p.keep(status, in: 40, for: root, file)
        XCTAssertEqual(p.siblings(of: stat, in: 40, for: root), [cmdline])
        XCTAssertEqual(p.siblings(of: stat, in: 40, for: user), [status, cmdline], "kept for root only")
        now += 2
        XCTAssertEqual(p.siblings(of: cmdline, in: 40, for: root), [stat, status], "the kept one expired")
    }
}

final class WalkAheadTests: XCTestCase {
    private var now = 10.0
    private let a = Attr(dev: 3, ino: 9, mode: 0o40755)
    private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
    private func walk() -> WalkAhead { WalkAhead(clock: { [unowned self] in self.now }) }

    /// One thread's walk of sys/fs/cgroup: each LOOKUP right after the one that found its
    /// directory teaches the next name; a walk from sys then predicts the rest.
    private func learnWalk(_ w: WalkAhead, tid: Int32 = 7) {
        var dir: [UInt8] = []
        for name in ["sys", "fs", "cgroup"] {
            w.learn(tid: tid, dir: dir, name: b(name))
            dir = dir.isEmpty ? b(name) : dir + b("/" + name)
            w.found(tid: tid, dir)
            now += 0.00002
        }
    }

    func testAWalkIsLearnedAndPredicted() {
        let w = walk()
        XCTAssertEqual(w.predicted(after: b("sys")), [])
        learnWalk(w)
        XCTAssertEqual(w.predicted(after: b("sys")), [], "one walk is not a habit")
        learnWalk(w)
        XCTAssertEqual(w.predicted(after: b("sys")), [b("sys/fs"), b("sys/fs/cgroup")])
        XCTAssertEqual(w.predicted(after: b("sys/fs")), [b("sys/fs/cgroup")])
    }

    /// Files read one after the other in one directory: a different name each walk.
    func testADirectoryWalkedToANewNameEachTimePredictsNothing() {
        let w = walk()
        for i in 0..<5 {
            w.found(tid: 1, b("files"))
            w.learn(tid: 1, dir: b("files"), name: b("f\(i)"))
        }
        XCTAssertEqual(w.predicted(after: b("files")), [])
    }

    func testOnlyTheSameThreadRightAfterTeaches() {
        let w = walk()
        w.found(tid: 7, b("sys"))
        w.learn(tid: 8, dir: b("sys"), name: b("fs"))       // another thread
        now += 0.01
        w.learn(tid: 7, dir: b("sys"), name: b("kernel"))   // another call, 10 ms later
        XCTAssertEqual(w.predicted(after: b("sys")), [])
    }

    func testAnAnswerFetchedAheadAnswersOnceWithinTheWindowForTheSameUser() {
        let w = walk()
        w.keep(b("sys/fs"), for: .root, a, epoch: 3)
        XCTAssertNil(w.take(b("sys/fs"), for: Caller(uid: 1, gid: 1)), "another user asks the host")
        XCTAssertEqual(w.take(b("sys/fs"), for: .root)?.epoch, 3)
        XCTAssertNil(w.take(b("sys/fs"), for: .root), "once")
        w.keep(b("sys/fs"), for: .root, a, epoch: 3)
        now += WalkAhead.window * 1.5
        XCTAssertNil(w.take(b("sys/fs"), for: .root), "a later call asks the host")
    }

    func testAPredictionStopsAtTheDepth() {
        let w = walk()
        var dir: [UInt8] = []
        for _ in 0..<2 {   // a 20-component walk, twice
            dir = []
            for i in 0..<20 {
                let name = "d\(i)"
                w.learn(tid: 1, dir: dir, name: b(name))
                dir = dir.isEmpty ? b(name) : dir + b("/" + name)
                w.found(tid: 1, dir)
            }
        }
        XCTAssertEqual(w.predicted(after: b("d0")).count, WalkAhead.depth)
    }
}
