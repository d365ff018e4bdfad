import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import QtfsServerCore
import XCTest

final class LifecycleTests: ServerTestCase {
    func openFds() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    func testDisconnectClosesHandles() throws {
        let probe = try client()   // keeps the server busy-free baseline comparable
        _ = try probe.lookup("")
        let before = openFds()
        var c: TestClient? = try client()
        for i in 0..<50 { _ = try c!.create("f\(i)") }
        _ = try c!.expect(.opendir, PathRequest(caller: .root, target: c!.t("")), OpenReply.self)
        XCTAssertGreaterThanOrEqual(openFds(), before + 51)
        c = nil   // closes the socket
        eventually("server to notice the disconnect") { server.connectionCount == 1 }
        eventually("handles to be closed") { openFds() <= before }
        XCTAssertEqual(openFds(), before)
        XCTAssertNoThrow(try probe.lookup(""))
    }

    func testManyClientsAtOnce() throws {
        let clients = try (0..<20).map { _ in try client() }
        for (i, c) in clients.enumerated() {
            try c.sendRaw(c.frame(.mkdir, MkdirRequest(caller: .root, target: c.t("c\(i)"), mode: 0o755), id: 77))
        }
        for c in clients {
            let (h, _) = try c.readFrame()
            XCTAssertEqual(h.id, 77)
            XCTAssertEqual(h.status, 0)
        }
        XCTAssertEqual(server.connectionCount, 20)
    }

    func testConnectionsBeyondTheLimitAreClosed() throws {
        var cfg = server.config
        cfg.maxConnections = 2
        cfg.exports = [ExportConfig(path: root)]
        server.stop()
        server = try QtfsServer(config: cfg, logger: .init(label: "limit"))
        try server.start()
        let a = try client(), b = try client()
        let third = try TestClient(port: server.port)
        XCTAssertTrue(third.waitClosed())
        XCTAssertNoThrow(try a.lookup(""))
        XCTAssertNoThrow(try b.lookup(""))
    }

    func testManyPipelinedLargeReadsUnderBackPressure() throws {
        let c = try client()
        let h = try c.create("big").handle
        _ = try c.write(h, 0, [UInt8](repeating: 9, count: 1 << 20))
        // 64 reads of 1 MiB at once: the server takes them as its budget allows.
        var batch: [UInt8] = []
        for i in 0..<64 { batch += c.frame(.read, ReadRequest(handle: h, offset: 0, size: 1 << 20), id: UInt64(100 + i)) }
        try c.sendRaw(batch)
        var ids = Set<UInt64>()
        for _ in 0..<64 {
            let (hdr, payload) = try c.readFrame()
            XCTAssertEqual(hdr.status, 0)
            XCTAssertEqual(payload.count, 1 << 20)
            ids.insert(hdr.id)
        }
        XCTAssertEqual(ids.count, 64)
    }

    func testStopAndRestartReleasesPort() throws {
        let c = try client()
        server.stop()
        XCTAssertTrue(c.waitClosed())
    }
}

final class PseudoFileTests: ServerTestCase {
    override func extraExports() -> [ExportConfig] { [ExportConfig(path: "/proc", readOnly: true)] }

    func testProcFilesArePseudoAndDirect() throws {
        let c = try client()
        let m = try c.mount("/proc")
        XCTAssertEqual(m.export, 1)
        XCTAssertTrue(m.root.isPseudo)
        let t = Target(export: 1, "uptime")
        let a = try c.expect(.lookup, PathRequest(caller: .root, target: t), AttrReply.self).attr
        XCTAssertTrue(a.isPseudo)
        XCTAssertEqual(a.size, 0)
        let o = try c.expect(.open, OpenRequest(caller: .root, target: t, flags: UInt32(O_RDONLY)), OpenReply.self)
        XCTAssertNotEqual(o.flags & OpenReply.directIO, 0)
        XCTAssertGreaterThan(try c.read(o.handle, 0, 4096).count, 0, "size 0 but content there")
        // /proc/self is a symlink: never followed in a request path.
        XCTAssertErrno(ELOOP, try c.expect(.lookup, PathRequest(caller: .root, target: Target(export: 1, "self/status")), AttrReply.self))
    }
}
