// A RELEASE's answer, which no client waits for, is not sent on its own while another
// request of the same connection is still to be answered (ConnectionIO.flush; here a
// worker's SETATTR): it comes with that answer.
import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest

final class LazyAnswersTests: ServerTestCase {
    /// Bytes readable on `fd` the moment anything is (poll, then FIONREAD at once).
    private func firstArrival(_ fd: Int32) -> Int {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 5000) > 0 else { return 0 }
        var n: Int32 = 0
        _ = ioctl(fd, UInt(FIONREAD), &n)
        return Int(n)
    }

    func testReleaseAnswerComesWithTheWorkersAnswer() throws {
        let c = try client()
        _ = try c.create("f").handle   // a file to chmod
        let h = try c.open("f", flags: O_RDONLY)
        // RELEASE (answered on the loop) and SETATTR (always a worker's) in one write.
        let rel = c.newID(), set = c.newID()
        try c.sendRaw(c.frame(.release, HandleRequest(handle: h), id: rel)
                      + c.frame(.setattr, SetattrRequest(caller: .root, target: c.t("f"), valid: [.mode], mode: 0o600), id: set))
        let both = 2 * Wire.headerSize
        XCTAssertGreaterThan(firstArrival(c.fd), both, "the RELEASE answer came alone, before the worker's")
        let answers = [try c.readFrame(), try c.readFrame()]
        XCTAssertEqual(answers.map { $0.0.id }.sorted(), [rel, set].sorted())
        XCTAssertEqual(answers.map { $0.0.status }, [0, 0])
        let setattr = try XCTUnwrap(answers.first { $0.0.id == set }?.1)
        XCTAssertEqual(try setattr.withUnsafeBytes { try AttrReply.decode($0) }.attr.mode & 0o7777, 0o600)
    }
}
