import XCTest
@testable import QtfsProtocol

/// One layout per message serves both directions: the rules a layout states (`require`)
/// bind the reader only, and a text field's limit decides the errno of an overlong value.
final class WireLayoutTests: XCTestCase {
    private func errno<P: WirePayload>(decoding value: P, as: P.Type = P.self) -> Int32? {
        do {
            _ = try P.decode(value.encoded())
            return nil
        } catch {
            return (error as? WireError)?.errno
        }
    }

    /// Values that break a rule still encode (a sender is trusted to build them right),
    /// and the same layout refuses them when decoding.
    func testRulesBindTheReaderOnly() {
        let c = Samples.alice, t = Samples.file
        XCTAssertEqual(errno(decoding: ReadRequest(handle: 1, offset: 0, size: UInt32(Wire.maxIOSize) + 1)), LinuxErrno.EINVAL)
        XCTAssertEqual(errno(decoding: TwoPathRequest(caller: c, from: t, to: t, flags: 3)), LinuxErrno.EINVAL)
        XCTAssertEqual(errno(decoding: SetattrRequest(caller: c, target: t, valid: .init(rawValue: 256))), LinuxErrno.EINVAL)
        XCTAssertEqual(errno(decoding: AccessRequest(caller: c, target: t, mask: 8)), LinuxErrno.EINVAL)
        XCTAssertEqual(errno(decoding: OpenReadReply(OpenReply(handle: 1), content: [1])), LinuxErrno.EINVAL)
        XCTAssertEqual(errno(decoding: XattrReply(size: 3, data: [1])), LinuxErrno.EINVAL)
        XCTAssertEqual(errno(decoding: RexecExit(signaled: false, code: 256)), LinuxErrno.EINVAL)
        let start = RexecStartRequest(caller: c, cwd: Array("/".utf8), argv: [Array("ls".utf8)], env: [],
                                      files: [RexecFile(fd: 1, flags: 0, offset: 0, path: Array("/f".utf8))])
        XCTAssertEqual(errno(decoding: start), LinuxErrno.EINVAL)
        // And the same messages within the rules decode.
        XCTAssertNil(errno(decoding: ReadRequest(handle: 1, offset: 0, size: UInt32(Wire.maxIOSize))))
        XCTAssertNil(errno(decoding: TwoPathRequest(caller: c, from: t, to: t, flags: 5)))
    }

    /// A path or name too long is ENAMETOOLONG; other text too long is a protocol error.
    func testOverlongTextErrnoFollowsItsLimit() {
        let long = String(repeating: "a", count: 300)
        let c = Samples.alice, t = Samples.file
        XCTAssertEqual(errno(decoding: XattrGetRequest(caller: c, target: t, name: long, size: 0)), LinuxErrno.ENAMETOOLONG)
        XCTAssertEqual(errno(decoding: DirEntryHolder(entry: DirEntry(cookie: 1, ino: 1, type: 8, name: long))), LinuxErrno.ENAMETOOLONG)
        XCTAssertEqual(errno(decoding: SockListenRequest(path: Array(("/" + long).utf8), type: 1)), LinuxErrno.ENAMETOOLONG)
        XCTAssertEqual(errno(decoding: HelloRequest(clientName: long)), LinuxErrno.EPROTO)
    }

    /// A supplementary group list longer than the wire carries is cut when encoding and
    /// refused when a peer claims it.
    func testGroupsBeyondTheLimit() throws {
        let many = Caller(uid: 1, gid: 1, groups: (0..<UInt32(Wire.maxGroups + 3)).map { $0 })
        let sent = try PathRequest.decode(PathRequest(caller: many, target: Samples.file).encoded())
        XCTAssertEqual(sent.caller.groups, Array(many.groups.prefix(Wire.maxGroups)))
        var w = WireWriter()
        w.u32(1); w.u32(1); w.u32(0); w.u16(UInt16(Wire.maxGroups + 1))
        for g in 0...Wire.maxGroups { w.u32(UInt32(g)) }
        XCTAssertThrowsError(try w.bytes.withUnsafeBytes { raw in
            var r = WireReader(raw)
            return try Caller(from: &r)
        }) { XCTAssertEqual($0 as? WireError, .tooLong(field: "caller.groups", length: Wire.maxGroups + 1, limit: Wire.maxGroups)) }
    }

    /// The in-place header writer (READ answers, sealing) gives the writer's bytes, and
    /// its length accessors touch the length field only.
    func testHeaderStoredInPlaceMatchesEncode() {
        let h = FrameHeader(kind: .response, opcode: Opcode.read.rawValue, id: 0x0102_0304_0506_0708,
                            length: 0x1122_3344, status: 0x5566_7788)
        var w = WireWriter(capacity: Wire.headerSize)
        h.encode(into: &w)
        var raw = [UInt8](repeating: 0xEE, count: Wire.headerSize)
        raw.withUnsafeMutableBytes { h.store(into: $0.baseAddress!) }
        XCTAssertEqual(raw, w.bytes)
        raw.withUnsafeMutableBytes { FrameHeader.storeLength(7, in: $0.baseAddress!) }
        let back = raw.withUnsafeBytes { try? FrameHeader.decode($0, maxLength: Int(UInt32.max)) }
        XCTAssertEqual(back, FrameHeader(kind: .response, opcode: h.opcode, id: h.id, length: 7, status: h.status))
        XCTAssertEqual(raw.withUnsafeBytes { FrameHeader.loadLength($0.baseAddress!) }, 7)
    }
}

/// A payload of one directory entry, to decode an entry on its own.
private struct DirEntryHolder: WirePayload {
    var entry: DirEntry
    static var unfilled: DirEntryHolder { DirEntryHolder(entry: .unfilled) }
    mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try entry.layout(&c) }
}
