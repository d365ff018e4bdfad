import QtfsProtocol
import XCTest

@testable import QtfsClient

final class DirPrefetchTests: XCTestCase {
    private var clock = 100.0
    private let dir: UInt64 = 7
    private let alice = Caller(uid: 1000, gid: 1000)

    private func prefetch() -> DirPrefetch { DirPrefetch(lifetime: 1.0, clock: { [unowned self] in self.clock }) }

    private func file(_ ino: UInt64, nlink: UInt32 = 1, size: UInt64 = 4) -> Attr {
        Attr(ino: ino, size: size, mode: 0o100644, nlink: nlink)
    }

    private func entries(_ names: [String: Attr]) -> [DirEntry] {
        var out = [DirEntry(cookie: 1, ino: 1, type: 4, name: "."), DirEntry(cookie: 2, ino: 1, type: 4, name: "..")]
        for (i, (n, a)) in names.sorted(by: { $0.key < $1.key }).enumerated() {
            out.append(DirEntry(cookie: UInt64(i + 3), ino: a.ino, type: 8, name: n, attr: a))
        }
        return out
    }

    /// Two misses, then a snapshot holding `names`.
    private func primed(_ pf: DirPrefetch, _ names: [String: Attr]) {
        XCTAssertNil(pf.miss(dir), "the first miss must not fetch")
        let gen = pf.miss(dir)
        XCTAssertNotNil(gen, "the second miss within the lifetime fetches")
        pf.install(dir, generation: gen!, .entries(entries(names)), owner: alice)
    }

    func testAnswersMayBeCachedOnlyForTheRestOfTheSnapshotsLife() {
        let pf = prefetch()
        primed(pf, ["a": file(10)])
        clock += 0.75
        let found = pf.lookup(dir, Array("a".utf8), alice), absent = pf.lookup(dir, Array("b".utf8), alice)
        XCTAssertEqual(found.answer, .found(file(10)))
        XCTAssertEqual(found.life, 0.25, accuracy: 1e-9)
        XCTAssertEqual(absent.answer, .absent)
        XCTAssertEqual(absent.life, 0.25, accuracy: 1e-9)
        clock += 0.25
        XCTAssertEqual(pf.lookup(dir, Array("a".utf8), alice).answer, .unknown, "expired")
    }

    /// A pseudo file listed in an ordinary directory (/proc under a / mount) is a name like
    /// any other; the kernel is told not to keep its attributes (CacheRules).
    func testAListedPseudoFileIsFound() {
        let pf = prefetch()
        var proc = Attr(ino: 1, mode: 0o40555, nlink: 300, flags: Attr.flagPseudo)
        proc.dev = 5
        primed(pf, ["proc": proc])
        XCTAssertEqual(pf.answer(dir, Array("proc".utf8), alice), .found(proc))
    }

    func testSecondMissFetchesAndSnapshotAnswers() {
        let pf = prefetch()
        primed(pf, ["a": file(10), "b": file(11)])
        XCTAssertEqual(pf.answer(dir, Array("a".utf8), alice), .found(file(10)))
        XCTAssertEqual(pf.answer(dir, Array("zz".utf8), alice), .absent)
        XCTAssertEqual(pf.answer(dir, Array(".".utf8), alice), .absent, "dot entries are never answered as files")
    }

    func testMissesFarApartDoNotFetch() {
        let pf = prefetch()
        XCTAssertNil(pf.miss(dir))
        clock += 2
        XCTAssertNil(pf.miss(dir), "a miss after the lifetime starts a new count")
    }

    func testOtherCredentialsAreNotAnswered() {
        let pf = prefetch()
        primed(pf, ["a": file(10)])
        XCTAssertEqual(pf.answer(dir, Array("a".utf8), Caller(uid: 1001, gid: 1000)), .unknown)
        XCTAssertEqual(pf.answer(dir, Array("a".utf8), Caller(uid: 1000, gid: 1000, pid: 99)), .found(file(10)))
    }

    func testSnapshotExpires() {
        let pf = prefetch()
        primed(pf, ["a": file(10)])
        clock += 1.5
        XCTAssertEqual(pf.answer(dir, Array("a".utf8), alice), .unknown)
        XCTAssertEqual(pf.snapshotCount, 0)
    }

    func testLocalChangesUpdateTheSnapshotNameByName() {
        let pf = prefetch()
        primed(pf, ["a": file(10), "b": file(11)])
        pf.note(dir, Array("new".utf8), .found(file(12)))
        pf.note(dir, Array("a".utf8), .absent)
        pf.note(dir, Array("b".utf8), .unknown)
        XCTAssertEqual(pf.answer(dir, Array("new".utf8), alice), .found(file(12)))
        XCTAssertEqual(pf.answer(dir, Array("a".utf8), alice), .absent)
        XCTAssertEqual(pf.answer(dir, Array("b".utf8), alice), .unknown)
        XCTAssertNil(pf.miss(dir), "a live snapshot is not fetched again")
    }

    /// A change made here while the listing is read (a create or unlink loop in a big
    /// directory) is replayed onto it: the chunk holding the name may predate the change.
    func testChangeDuringFetchIsReplayedOntoIt() {
        let pf = prefetch()
        XCTAssertNil(pf.miss(dir))
        let gen = pf.miss(dir)!
        pf.note(dir, Array("a".utf8), .absent)   // races the fetch
        pf.note(dir, Array("new".utf8), .found(file(12)))
        pf.note(dir, Array("b".utf8), .unknown)
        XCTAssertTrue(pf.wants(dir, generation: gen), "a change replayed by name must not stop the listing")
        pf.install(dir, generation: gen, .entries(entries(["a": file(10), "b": file(11)])), owner: alice)
        XCTAssertEqual(pf.answer(dir, Array("a".utf8), alice), .absent)
        XCTAssertEqual(pf.answer(dir, Array("new".utf8), alice), .found(file(12)))
        XCTAssertEqual(pf.answer(dir, Array("b".utf8), alice), .unknown)
    }

    /// A change that cannot be replayed by name drops the listing in flight.
    func testDirectoryChangeDuringFetchDropsItsResult() {
        let pf = prefetch()
        XCTAssertNil(pf.miss(dir))
        let gen = pf.miss(dir)!
        pf.changed(dir)
        XCTAssertFalse(pf.wants(dir, generation: gen), "a background listing must stop reading")
        pf.install(dir, generation: gen, .entries(entries(["a": file(10)])), owner: alice)
        XCTAssertEqual(pf.answer(dir, Array("a".utf8), alice), .unknown)
    }

    /// After a fetch is cut, the directory is not fetched again for `lifetime` (each fetch
    /// costs the host a stat per entry read).
    func testCutFetchPausesFetchingForALifetime() {
        let pf = prefetch()
        XCTAssertNil(pf.miss(dir))
        let gen = pf.miss(dir)!
        XCTAssertTrue(pf.wants(dir, generation: gen))
        pf.changed(dir)
        XCTAssertNil(pf.miss(dir))
        XCTAssertNil(pf.miss(dir), "two misses right after a cut fetch must not fetch again")
        clock += pf.lifetime
        XCTAssertNil(pf.miss(dir))
        XCTAssertNotNil(pf.miss(dir), "after the pause the directory may be fetched again")
    }

    func testHardLinkedFilesAreAlwaysAskedFor() {
        let pf = prefetch()
        primed(pf, ["one": file(10, nlink: 2)])
        XCTAssertEqual(pf.answer(dir, Array("one".utf8), alice), .unknown)
    }

    /// A directory over the limit is not fetched again for a while: each try costs the
    /// host a stat per entry. A failed fetch (a read error) may be tried again at once.
    func testTooBigDirectoryIsLeftAloneForAPause() {
        let pf = prefetch()
        XCTAssertNil(pf.miss(dir))
        pf.install(dir, generation: pf.miss(dir)!, .tooBig, owner: alice)
        XCTAssertNil(pf.miss(dir))
        XCTAssertNil(pf.miss(dir), "two misses must not fetch a directory known to be too big")
        clock += DirPrefetch.tooBigPause
        XCTAssertNil(pf.miss(dir))
        XCTAssertNotNil(pf.miss(dir), "after the pause it may be tried again")
        let other: UInt64 = 8
        XCTAssertNil(pf.miss(other))
        pf.install(other, generation: pf.miss(other)!, .failed, owner: alice)
        XCTAssertNil(pf.miss(other))
        XCTAssertNotNil(pf.miss(other))
    }

    /// A directory whose size says it holds more than `maxEntries` is never fetched; one
    /// whose size says nothing (0: /proc, /sys) or allows it is, on its second miss.
    func testDirectorySizeOverTheLimitIsNotFetched() {
        let pf = prefetch()
        let limitBytes = UInt64(pf.maxEntries) * DirPrefetch.bytesPerEntry
        XCTAssertNil(pf.miss(dir, dirSize: limitBytes + DirPrefetch.bytesPerEntry))
        XCTAssertNil(pf.miss(dir, dirSize: limitBytes + DirPrefetch.bytesPerEntry), "a huge directory must not be listed")
        XCTAssertNil(pf.miss(dir, dirSize: limitBytes))
        XCTAssertNotNil(pf.miss(dir, dirSize: limitBytes), "at the limit it is listed on the second miss")
        let pseudo: UInt64 = 9
        XCTAssertNil(pf.miss(pseudo, dirSize: 0))
        XCTAssertNotNil(pf.miss(pseudo, dirSize: 0))
    }

    /// At most `maxBackground` listings are read on in the background at once.
    func testBackgroundListingsAreBounded() {
        let pf = prefetch()
        for _ in 0..<DirPrefetch.maxBackground { XCTAssertTrue(pf.takeBackgroundSlot()) }
        XCTAssertFalse(pf.takeBackgroundSlot(), "one more than the bound")
        pf.giveBackgroundSlot()
        XCTAssertTrue(pf.takeBackgroundSlot(), "a slot given back is free again")
    }
}
