import Foundation
import QtfsServerCore
import Glibc
import QtfsProtocol
import XCTest

final class CredentialTests: ServerTestCase {
    let user = Caller(uid: 1000, gid: 1000, groups: [1000])

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("credential switching needs root") }
        try super.setUpWithError()
    }

    func testCreateAsCallerOwnsFile() throws {
        let c = try client()
        c.caller = user
        let cr = try c.create("mine", mode: 0o600)
        XCTAssertEqual(cr.attr.uid, 1000)
        XCTAssertEqual(cr.attr.gid, 1000)
        var st = stat()
        XCTAssertEqual(stat(host("mine"), &st), 0)
        XCTAssertEqual(st.st_uid, 1000)
        XCTAssertEqual(try c.mkdir("mydir").uid, 1000)
    }

    func testCallerCannotWriteRootOnlyFile() throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: host("secret"), contents: Data("s".utf8)))
        XCTAssertEqual(chmod(host("secret"), 0o600), 0)
        let c = try client()
        c.caller = user
        XCTAssertErrno(EACCES, try c.open("secret", flags: O_WRONLY))
        XCTAssertErrno(EACCES, try c.open("secret", flags: O_RDONLY))
        XCTAssertEqual(try c.status(.access, AccessRequest(caller: user, target: c.t("secret"), mask: 4)), EACCES)
        c.caller = .root
        XCTAssertNoThrow(try c.open("secret", flags: O_WRONLY))
    }

    func testIdentityNeverLeaksBetweenRequests() throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: host("secret"), contents: Data("s".utf8)))
        XCTAssertEqual(chmod(host("secret"), 0o600), 0)
        XCTAssertEqual(mkdir(host("private"), 0o700), 0)
        let c = try client()
        let h = try c.expect(.opendir, PathRequest(caller: .root, target: c.t("private")), OpenReply.self).handle
        for _ in 0..<40 {   // more rounds than workers: every worker serves both identities
            c.caller = user
            XCTAssertErrno(EACCES, try c.open("secret", flags: O_RDONLY))
            c.caller = .root
            let fh = try c.open("secret", flags: O_RDONLY)
            try c.release(fh)
            // A handle operation after a user's request acts as the server, not the user.
            XCTAssertEqual(try c.status(.readdir, ReaddirRequest(handle: h, cookie: 0, maxBytes: 4096, plus: true)), 0)
        }
    }

    func testSupplementaryGroupsCount() throws {
        XCTAssertEqual(mkdir(host("grp"), 0o770), 0)
        XCTAssertEqual(chown(host("grp"), 0, 4242), 0)
        let c = try client()
        c.caller = Caller(uid: 1000, gid: 1000, groups: [])
        XCTAssertErrno(EACCES, try c.create("grp/x"))
        c.caller = Caller(uid: 1000, gid: 1000, groups: [4242])
        XCTAssertEqual(try c.create("grp/x").attr.uid, 1000)
    }

    func testRootSquash() throws {
        var cfg = server.config
        cfg.exports = [ExportConfig(path: root, rootSquash: true)]
        server.stop()
        server = try QtfsServer(config: cfg, logger: .init(label: "squash"))
        try server.start()
        let c = try client()
        let cr = try c.create("squashed")
        XCTAssertEqual(cr.attr.uid, 65534)
    }
}
