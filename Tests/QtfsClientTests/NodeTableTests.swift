import QtfsProtocol
import XCTest
@testable import QtfsClient

final class NodeTableTests: XCTestCase {
    func attr(_ ino: UInt64, dev: UInt64 = 1, dir: Bool = false) -> Attr {
        Attr(dev: dev, ino: ino, mode: dir ? 0o040755 : 0o100644, nlink: 1)
    }
    let n = { (s: String) in Array(s.utf8) }

    func testPathsFollowRename() {
        let t = NodeTable(base: n("srv"), root: attr(2, dir: true))
        let d = t.found(parent: 1, name: n("a"), attr: attr(10, dir: true))
        let f = t.found(parent: d, name: n("f"), attr: attr(11))
        XCTAssertEqual(t.path(f), n("srv/a/f"))
        let e = t.found(parent: 1, name: n("e"), attr: attr(12, dir: true))
        t.renamed(1, n("a"), e, n("b"), exchange: false)
        XCTAssertEqual(t.path(f), n("srv/e/b/f"))
        XCTAssertEqual(t.path(1, n("x")), n("srv/x"))
    }

    func testRootPathWithEmptyBase() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        XCTAssertEqual(t.path(1), [])
        XCTAssertEqual(t.path(1, n("x")), n("x"))
    }

    func testNewIdentityGetsFreshNodeidAndIdsAreNeverReused() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let a = t.found(parent: 1, name: n("p"), attr: attr(100))
        XCTAssertEqual(t.found(parent: 1, name: n("p"), attr: attr(100)), a)
        let b = t.found(parent: 1, name: n("p"), attr: attr(101))
        XCTAssertNotEqual(a, b)
        t.forget(a, 2)
        t.forget(b, 1)
        XCTAssertNil(t.path(a))
        let c = t.found(parent: 1, name: n("p"), attr: attr(100))
        XCTAssertTrue(c > b)
    }

    func testForgetKeepsNodeUntilCountReachesZero() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let a = t.found(parent: 1, name: n("f"), attr: attr(5))
        _ = t.found(parent: 1, name: n("f"), attr: attr(5))
        t.forget(a, 1)
        XCTAssertNotNil(t.path(a))
        t.forget(a, 1)
        XCTAssertNil(t.path(a))
    }

    func testExchangeSwapsNodes() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let a = t.found(parent: 1, name: n("a"), attr: attr(5))
        let b = t.found(parent: 1, name: n("b"), attr: attr(6))
        t.renamed(1, n("a"), 1, n("b"), exchange: true)
        XCTAssertEqual(t.path(a), n("b"))
        XCTAssertEqual(t.path(b), n("a"))
    }

    func testHardLinksAreOneNodeCountingEveryLookup() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let d = t.found(parent: 1, name: n("d"), attr: attr(3, dir: true))
        let a = t.found(parent: 1, name: n("a"), attr: attr(5))
        XCTAssertEqual(t.found(parent: d, name: n("b"), attr: attr(5)), a)
        XCTAssertEqual(t.path(a), n("d/b"), "the path goes through the name looked up last")
        XCTAssertEqual(Set(t.places(of: a).map(\.name)), [n("a"), n("b")])
        t.forget(a, 1)
        XCTAssertNotNil(t.path(a), "one of two lookups is left")
        t.forget(a, 1)
        XCTAssertNil(t.path(a))
        XCTAssertNotEqual(t.found(parent: 1, name: n("a"), attr: attr(5)), a, "a forgotten identity gets a fresh nodeid")
    }

    func testDirectoriesAndPseudoFilesStayKeyedByName() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let d1 = t.found(parent: 1, name: n("x"), attr: attr(7, dir: true))
        XCTAssertNotEqual(t.found(parent: 1, name: n("y"), attr: attr(7, dir: true)), d1, "a bind-mounted directory seen twice")
        var p = attr(8)
        p.flags |= Attr.flagPseudo
        let p1 = t.found(parent: 1, name: n("p"), attr: p)
        XCTAssertNotEqual(t.found(parent: 1, name: n("q"), attr: p), p1)
    }

    func testUnlinkingTheCurrentNameMovesToAnother() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let a = t.found(parent: 1, name: n("a"), attr: attr(5))
        _ = t.found(parent: 1, name: n("b"), attr: attr(5))
        XCTAssertEqual(t.removed(parent: 1, name: n("b")).map(\.name), [n("a")])
        XCTAssertEqual(t.path(a), n("a"))
        t.removed(parent: 1, name: n("a"))
        XCTAssertEqual(t.path(a), n("a"), "an unlinked node keeps its last path for open handles")
        XCTAssertEqual(t.found(parent: 1, name: n("c"), attr: attr(5)), a, "a name the client did not know yet")
        XCTAssertEqual(t.path(a), n("c"))
    }

    func testRenamingOneNameKeepsTheOthers() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let a = t.found(parent: 1, name: n("a"), attr: attr(5))
        _ = t.found(parent: 1, name: n("b"), attr: attr(5))
        t.renamed(1, n("b"), 1, n("c"), exchange: false)
        XCTAssertEqual(t.path(a), n("c"))
        XCTAssertEqual(Set(t.places(of: a).map(\.name)), [n("a"), n("c")])
        t.renamed(1, n("a"), 1, n("c"), exchange: false)   // rename(2) of a link onto another: no-op
        XCTAssertEqual(Set(t.places(of: a).map(\.name)), [n("a"), n("c")])
        let other = t.found(parent: 1, name: n("o"), attr: attr(6))
        t.renamed(1, n("o"), 1, n("c"), exchange: false)
        XCTAssertEqual(t.places(of: a).map(\.name), [n("a")])
        XCTAssertEqual(t.path(a), n("a"))
        XCTAssertEqual(t.path(other), n("c"))
    }

    func testForgottenDirectoryOfTheCurrentNameFallsBackToAnother() {
        let t = NodeTable(base: [], root: attr(2, dir: true))
        let d1 = t.found(parent: 1, name: n("d1"), attr: attr(3, dir: true))
        let d2 = t.found(parent: 1, name: n("d2"), attr: attr(4, dir: true))
        let f = t.found(parent: d1, name: n("x"), attr: attr(5))
        _ = t.found(parent: d2, name: n("y"), attr: attr(5))
        t.forget(d2, 1)   // the kernel dropped d2/y's dentry, then d2
        XCTAssertEqual(t.path(f), n("d1/x"))
    }

    func testInoMapKeepsDevInoPairsApart() {
        let m = InoMap(rootDev: 1)
        XCTAssertEqual(m.map(dev: 1, ino: 7), 7)
        XCTAssertNotEqual(m.map(dev: 2, ino: 7), 7)
        XCTAssertNotEqual(m.map(dev: 2, ino: 7), m.map(dev: 3, ino: 7))
        XCTAssertEqual(m.map(dev: 2, ino: 7), m.map(dev: 2, ino: 7))
    }

    func testServerAddressParsing() {
        XCTAssertEqual(ServerAddress.parse("h"), ServerAddress(host: "h", port: 12345))
        XCTAssertEqual(ServerAddress.parse("h:1"), ServerAddress(host: "h", port: 1))
        XCTAssertEqual(ServerAddress.parse("[::1]:9"), ServerAddress(host: "::1", port: 9))
        XCTAssertNil(ServerAddress.parse("h:x"))
        XCTAssertNil(ServerAddress.parse(":5"))
    }
}
