import Foundation
import QtfsServerCore
import Glibc
import QtfsProtocol
import QtfsTestSupport
import XCTest

final class HandshakeTests: ServerTestCase {
    override func extraExports() -> [ExportConfig] {
        try? FileManager.default.createDirectory(atPath: root + "/ro", withIntermediateDirectories: true)
        return [ExportConfig(path: root + "/ro", readOnly: true)]
    }

    func testHelloAndMount() throws {
        let c = try TestClient(port: server.port)
        let hello = try c.hello()
        XCTAssertEqual(hello.version, 1)
        XCTAssertEqual(hello.maxPayload, UInt32(Wire.maxPayload))
        let m = try c.mount(root)
        XCTAssertEqual(m.export, 0)
        XCTAssertEqual(m.base, [])
        XCTAssertEqual(m.root.mode & 0o170000, 0o040000)
        try FileManager.default.createDirectory(atPath: host("sub/deeper"), withIntermediateDirectories: true)
        XCTAssertEqual(String(decoding: try c.mount(root + "/sub/deeper/").base, as: UTF8.self), "sub/deeper")
        XCTAssertErrno(EACCES, try c.mount("/definitely-not-exported"))
        XCTAssertErrno(ENOENT, try c.mount(root + "/missing"))
        XCTAssertErrno(EINVAL, try c.mount(root + "/sub/../sub"))
        XCTAssertErrno(EINVAL, try c.mount("relative"))
    }

    func testLongestExportWinsAndReadOnly() throws {
        let c = try client()
        let m = try c.mount(root + "/ro")
        XCTAssertEqual(m.export, 1)
        XCTAssertEqual(m.base, [])
        XCTAssertErrno(EROFS, try c.expect(.mkdir, MkdirRequest(caller: c.caller, target: Target(export: 1, "x"), mode: 0o755), AttrReply.self))
        XCTAssertErrno(EROFS, try c.expect(.open, OpenRequest(caller: c.caller, target: Target(export: 1, ""), flags: UInt32(O_RDWR)), OpenReply.self))
        XCTAssertErrno(EINVAL, try c.expect(.lookup, PathRequest(caller: c.caller, target: Target(export: 7, "")), AttrReply.self))
    }

    /// OPEN_ATTR: a client that asks in HELLO gets the opened file's attributes with OPEN,
    /// OPEN_READ and OPENDIR (its own fstat); one that does not (qtfs.ko) gets the v1 answers.
    func testOpenAnswersCarryAttributesOnlyWhenAsked() throws {
        try Data("hello".utf8).write(to: URL(fileURLWithPath: host("f")))
        try FileManager.default.createDirectory(atPath: host("d"), withIntermediateDirectories: true)
        var st = stat()
        XCTAssertEqual(stat(host("f"), &st), 0)
        for asks in [true, false] {
            let c = try mountedClient(asking: asks ? HelloRequest.capOpenAttr : 0, announced: HelloReply.capOpenAttr)
            let open = OpenRequest(caller: c.caller, target: c.t("f"), flags: UInt32(O_RDONLY))
            let plain = try c.expect(.open, open, OpenReply.self)
            let withContent = try c.expect(.openRead, OpenReadRequest(open, maxBytes: 4096), OpenReadReply.self)
            let dir = try c.expect(.opendir, PathRequest(caller: c.caller, target: c.t("d")), OpenReply.self)
            for o in [plain, withContent.open, dir] {
                XCTAssertEqual(o.flags & OpenReply.hasAttr != 0, asks)
                XCTAssertEqual(o.attr != nil, asks)
            }
            XCTAssertEqual(withContent.content, Array("hello".utf8), "the content still follows")
            guard asks else { continue }
            XCTAssertEqual(plain.attr?.ino, UInt64(st.st_ino))
            XCTAssertEqual(withContent.open.attr?.size, 5)
            XCTAssertEqual(dir.attr.map { $0.mode & 0o170000 }, 0o040000)
        }
    }

    /// QUIET_RELEASE: a client that asks in HELLO gets no answer to RELEASE or RELEASEDIR
    /// (good, unknown or malformed), and the handle is closed all the same; one that does
    /// not ask gets the answers.
    func testReleasesGoUnansweredOnlyWhenAsked() throws {
        try Data("hello".utf8).write(to: URL(fileURLWithPath: host("f")))
        for asks in [true, false] {
            let c = try mountedClient(asking: asks ? HelloRequest.capQuietRelease : 0, announced: HelloReply.capQuietRelease)
            let file = try c.expect(.open, OpenRequest(caller: c.caller, target: c.t("f"), flags: UInt32(O_RDONLY)), OpenReply.self)
            let dir = try c.expect(.opendir, PathRequest(caller: c.caller, target: c.t("")), OpenReply.self)
            let releases: [(Opcode, [UInt8])] = [
                (.release, HandleRequest(handle: file.handle).encoded()), (.releasedir, HandleRequest(handle: dir.handle).encoded()),
                (.release, HandleRequest(handle: 999).encoded()), (.release, [1, 2, 3]),
            ]
            var ids: [UInt64] = []
            for (op, body) in releases {
                let id = c.newID()
                ids.append(id)
                var frame = c.frame(.release, HandleRequest(handle: 0), id: id)
                frame.replaceSubrange(6..<8, with: [UInt8(op.rawValue & 0xff), UInt8(op.rawValue >> 8)])
                frame.replaceSubrange(16..<20, with: withUnsafeBytes(of: UInt32(body.count).littleEndian, Array.init))
                try c.sendRaw(Array(frame[..<Wire.headerSize]) + body)
            }
            // FLUSH is always answered: here, on the released handle, EBADF.
            let flushID = c.newID()
            try c.sendRaw(c.frame(.flush, HandleRequest(handle: file.handle), id: flushID))
            var answered: [UInt64: UInt32] = [:]
            while answered[flushID] == nil {
                let (h, _) = try c.readFrame()
                answered[h.id] = h.status
            }
            XCTAssertEqual(answered[flushID], UInt32(EBADF), "the file's handle is gone")
            if asks {
                XCTAssertEqual(answered.count, 1, "nothing but the FLUSH answered: \(answered)")
            } else {
                XCTAssertEqual(ids.map { answered[$0] }, [0, 0, UInt32(EBADF), UInt32(EPROTO)])
            }
        }
    }

    /// A client whose HELLO asks for `capabilities`, mounted on the export; the server's
    /// answer must announce `announced`.
    private func mountedClient(asking capabilities: UInt64, announced: UInt64) throws -> TestClient {
        let c = try TestClient(port: server.port)
        let hello = try c.expect(.hello, HelloRequest(capabilities: capabilities, clientName: "test"), HelloReply.self)
        XCTAssertNotEqual(hello.capabilities & announced, 0, "the server announces it")
        _ = try c.mount(root)
        return c
    }

    func testNoCommonVersionIsRefusedAndClosed() throws {
        let c = try TestClient(port: server.port)
        let (status, _) = try c.call(.hello, HelloRequest(minVersion: 2, maxVersion: 3, clientName: "future"))
        XCTAssertEqual(Int32(status), EPROTO)
        XCTAssertTrue(c.waitClosed())
    }

    func testRequestBeforeHelloClosesConnection() throws {
        let c = try TestClient(port: server.port)
        try c.sendRaw(c.frame(.lookup, PathRequest(caller: .root, target: Target(export: 0, "")), id: 1))
        XCTAssertTrue(c.waitClosed())
    }

    func testUnknownOpcodeIsENOSYS() throws {
        let c = try client()
        var w = WireWriter()
        FrameHeader(kind: .request, opcode: 50, id: 99, length: 0).encode(into: &w)
        try c.sendRaw(w.bytes)
        let (h, _) = try c.readFrame()
        XCTAssertEqual(h.id, 99)
        XCTAssertEqual(Int32(h.status), ENOSYS)
    }

    func testMalformedFramesCloseOnlyThatConnection() throws {
        let good = try client()
        var headers: [[UInt8]] = []
        var w = WireWriter()
        FrameHeader(kind: .request, opcode: 10, id: 1, length: 0).encode(into: &w)
        var badMagic = w.bytes; badMagic[0] = 0x58
        headers.append(badMagic)
        var oversize = w.bytes
        let big = UInt32(Wire.maxPayload + 1)
        withUnsafeBytes(of: big.littleEndian) { for i in 0..<4 { oversize[16 + i] = $0[i] } }
        headers.append(oversize)
        var badKind = w.bytes; badKind[5] = 1
        headers.append(badKind)
        headers.append((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })   // garbage
        for bytes in headers {
            let bad = try client()
            try bad.sendRaw(bytes)
            XCTAssertTrue(bad.waitClosed(), "connection fed \(bytes.prefix(8)) should be closed")
            XCTAssertEqual(try good.lookup("").mode & 0o170000, 0o040000, "other connection keeps working")
        }
    }

    func testBadPayloadGetsErrorAndConnectionStays() throws {
        let c = try client()
        // A LOOKUP whose payload stops inside the caller: EPROTO.
        var w = WireWriter()
        FrameHeader(kind: .request, opcode: Opcode.lookup.rawValue, id: 5, length: 3).encode(into: &w)
        w.raw([1, 2, 3])
        try c.sendRaw(w.bytes)
        var (h, _) = try c.readFrame()
        XCTAssertEqual(Int32(h.status), EPROTO)
        // Trailing bytes after a valid payload: EPROTO too.
        var p = PathRequest(caller: .root, target: Target(export: 0, "")).encoded()
        p.append(0)
        var w2 = WireWriter()
        FrameHeader(kind: .request, opcode: Opcode.lookup.rawValue, id: 6, length: UInt32(p.count)).encode(into: &w2)
        w2.raw(p)
        try c.sendRaw(w2.bytes)
        (h, _) = try c.readFrame()
        XCTAssertEqual(h.id, 6)
        XCTAssertEqual(Int32(h.status), EPROTO)
        XCTAssertNoThrow(try c.lookup(""))
    }

    func testFramesSplitByteByByteAndManyAtOnce() throws {
        let c = try client()
        let f = c.frame(.lookup, PathRequest(caller: .root, target: Target(export: 0, "")), id: 1000)
        for b in f { try c.sendRaw([b]) }
        XCTAssertEqual(try c.readFrame().0.id, 1000)
        var batch: [UInt8] = []
        for i in 0..<100 { batch += c.frame(.lookup, PathRequest(caller: .root, target: Target(export: 0, "")), id: UInt64(2000 + i)) }
        try c.sendRaw(batch)
        var seen = Set<UInt64>()
        for _ in 0..<100 {
            let (h, payload) = try c.readFrame()
            XCTAssertEqual(h.status, 0)
            XCTAssertNoThrow(try AttrReply.decode(payload))
            seen.insert(h.id)
        }
        XCTAssertEqual(seen, Set((0..<100).map { UInt64(2000 + $0) }))
    }

    func testPipelinedRequestsAnsweredOutOfOrder() throws {
        let c = try client()
        XCTAssertEqual(mkfifo(host("fifo"), 0o666), 0)
        // Opening a fifo with no writer blocks one worker: the answer to the later LOOKUP
        // must overtake it.
        try c.sendRaw(c.frame(.open, OpenRequest(caller: .root, target: Target(export: 0, "fifo"), flags: UInt32(O_RDONLY)), id: 1))
        try c.sendRaw(c.frame(.lookup, PathRequest(caller: .root, target: Target(export: 0, "")), id: 2))
        XCTAssertEqual(try c.readFrame().0.id, 2)
        // Now give the fifo a writer: the OPEN completes.
        var writer: Int32 = -1
        eventually("fifo reader to block in open") {
            writer = Glibc.open(host("fifo"), O_WRONLY | O_NONBLOCK)
            return writer >= 0
        }
        defer { close(writer) }
        let (h, payload) = try c.readFrame()
        XCTAssertEqual(h.id, 1)
        XCTAssertEqual(h.status, 0)
        let reply = try OpenReply.decode(payload)
        XCTAssertEqual(reply.flags & (OpenReply.nonSeekable | OpenReply.directIO), OpenReply.nonSeekable | OpenReply.directIO)
    }
}
