// The routing table and the Router with a test backend in place of the file system: where
// each request runs (loop, worker), what the backend is asked (may it wait?), and the
// answer frames, without an engine, a ring or a socket.
import Glibc
import Logging
import QtfsProtocol
import QtfsSystem
import XCTest
@testable import QtfsServerCore

final class RouterTests: XCTestCase {
    private let backend = RecordingBackend()
    private lazy var router = Router(backend: backend, logger: Logger(label: "router-test"))
    private let handles = HandleTable(limit: 8)
    private let caller = Caller(uid: 1000, gid: 1000)

    func testTableSaysWhereEachOpcodeRuns() {
        XCTAssertEqual(Router.route(Opcode.hello.rawValue).placement, .loop)
        XCTAssertEqual(Router.route(Opcode.read.rawValue).placement, .ring)
        XCTAssertEqual(Router.route(Opcode.write.rawValue).placement, .ring)
        XCTAssertEqual(Router.route(Opcode.release.rawValue).placement, .loop)
        for op: Opcode in [.lookup, .getattr, .setattr, .open, .openRead, .lookupOpen, .create, .unlink, .rmdir, .rename, .readdir, .lseek] {
            XCTAssertEqual(Router.route(op.rawValue).placement, .loopThenWorker, "\(op)")
        }
        for op: Opcode in [.mount, .fsync, .fallocate, .setxattr, .hostMount] {
            XCTAssertEqual(Router.route(op.rawValue).placement, .worker, "\(op)")
        }
        for op in Opcode.allCases {
            switch Router.route(op.rawValue).handler {
            case .engine: XCTAssertTrue([.loop, .ring].contains(Router.route(op.rawValue).placement), "\(op)")
            case .backend: XCTAssertTrue([.loopThenWorker, .worker].contains(Router.route(op.rawValue).placement), "\(op)")
            case .refuse: XCTAssertEqual(Router.route(op.rawValue).placement, .loop, "\(op)")
            }
        }
    }

    func testLookupIsAnsweredOnTheLoopWithoutWaiting() throws {
        let step = onLoop(.lookup, id: 5, PathRequest(caller: caller, target: Target(export: 1, "a")))
        let (h, reply) = try answer(step, AttrReply.self)
        XCTAssertEqual(h.opcode, Opcode.lookup.rawValue)
        XCTAssertEqual(h.id, 5)
        XCTAssertEqual(reply.attr.ino, 42)
        XCTAssertEqual(backend.calls, ["lookup a"])
    }

    func testOpenThatWouldWaitIsMadeAgainOnAWorker() throws {
        let req = OpenRequest(caller: caller, target: Target(export: 1, "device"), flags: UInt32(O_RDONLY))
        guard case .toWorker = onLoop(.open, id: 9, req) else { return XCTFail("OPEN of a device stayed on the loop") }
        let frame = router.onWorker(job(.open, id: 9, req))
        let (h, reply) = try decode(frame, OpenReply.self)
        XCTAssertEqual(h.id, 9)
        XCTAssertEqual(reply.handle, 7)
        XCTAssertEqual(backend.calls, ["open device mustNotWait", "open device mayWait"])
    }

    func testWorkerOpcodeNeverRunsOnTheLoop() throws {
        let req = FsyncRequest(handle: 3, dataOnly: true)
        guard case .toWorker = onLoop(.fsync, id: 2, req) else { return XCTFail("FSYNC ran on the loop") }
        XCTAssertEqual(backend.calls, [])
        let (h, _) = try decode(router.onWorker(job(.fsync, id: 2, req)), EmptyReply.self)
        XCTAssertEqual(h.status, 0)
        XCTAssertEqual(backend.calls, ["fsync 3"])
    }

    func testErrorsBecomeErrnoAnswers() throws {
        let missing = onLoop(.lookup, id: 1, PathRequest(caller: caller, target: Target(export: 1, "missing")))
        XCTAssertEqual(try status(missing), UInt32(ENOENT))
        let cut = FrameHeader(kind: .request, opcode: Opcode.lookup.rawValue, id: 2, length: 3)
        let truncated = [UInt8](repeating: 0, count: 3).withUnsafeBytes { router.onLoop(cut, $0, conn: 1, handles) }
        XCTAssertEqual(try status(truncated), UInt32(EPROTO))
        let unknown = FrameHeader(kind: .request, opcode: 999, id: 3, length: 0)
        XCTAssertEqual(try status([UInt8]().withUnsafeBytes { router.onLoop(unknown, $0, conn: 1, handles) }), UInt32(ENOSYS))
        XCTAssertEqual(backend.calls, ["lookup missing"])
    }

    func testEngineOpcodesGoToTheEngine() {
        let hello = FrameHeader(kind: .request, opcode: Opcode.hello.rawValue, id: 1, length: 0)
        guard case .engine = [UInt8]().withUnsafeBytes({ router.onLoop(hello, $0, conn: 1, handles) }) else {
            return XCTFail("HELLO did not go to the engine")
        }
        XCTAssertEqual(backend.calls, [])
    }

    // MARK: helpers

    private func onLoop<P: WirePayload>(_ op: Opcode, id: UInt64, _ p: P) -> Router.Step {
        let frame = FrameHeader.frame(kind: .request, opcode: op, id: id, payload: p)
        return frame.withUnsafeBytes { raw in
            let h = try! FrameHeader.decode(UnsafeRawBufferPointer(rebasing: raw[..<Wire.headerSize]))
            return router.onLoop(h, UnsafeRawBufferPointer(rebasing: raw[Wire.headerSize...]), conn: 1, handles)
        }
    }

    private func job<P: WirePayload>(_ op: Opcode, id: UInt64, _ p: P) -> Job {
        let frame = FrameHeader.frame(kind: .request, opcode: op, id: id, payload: p)
        return Job(conn: 1, opcode: op.rawValue, id: id, payload: Array(frame[Wire.headerSize...]), handles: handles)
    }

    private func answer<R: WirePayload>(_ step: Router.Step, _: R.Type) throws -> (FrameHeader, R) {
        guard case .answered(let frame) = step else { throw Unexpected(step: "\(step)") }
        return try decode(frame, R.self)
    }

    private func status(_ step: Router.Step) throws -> UInt32 {
        guard case .answered(let frame) = step else { throw Unexpected(step: "\(step)") }
        return try frame.withUnsafeBytes { try FrameHeader.decode(UnsafeRawBufferPointer(rebasing: $0[..<Wire.headerSize])) }.status
    }

    private func decode<R: WirePayload>(_ frame: [UInt8], _: R.Type) throws -> (FrameHeader, R) {
        try frame.withUnsafeBytes { raw in
            let h = try FrameHeader.decode(UnsafeRawBufferPointer(rebasing: raw[..<Wire.headerSize]))
            XCTAssertEqual(h.status, 0, "answer is an error")
            return (h, try R.decode(UnsafeRawBufferPointer(rebasing: raw[Wire.headerSize...])))
        }
    }

    private struct Unexpected: Error { let step: String }
}

/// A backend that records what it is asked. LOOKUP of "missing" fails ENOENT; OPEN of
/// "device" would wait; everything not used here fails ENOTSUP.
private final class RecordingBackend: FileBackend, @unchecked Sendable {
    var calls: [String] = []

    private func name(_ t: Target) -> String { String(decoding: t.path, as: UTF8.self) }
    private func unused() -> Errno { Errno(ENOTSUP) }

    func lookup(_ r: PathRequest) throws -> AttrReply {
        calls.append("lookup \(name(r.target))")
        if name(r.target) == "missing" { throw Errno(ENOENT) }
        return AttrReply(attr: Attr(ino: 42))
    }

    func open(_ r: OpenRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> OpenReply {
        calls.append("open \(name(r.target)) \(waiting)")
        if name(r.target) == "device" && waiting == .mustNotWait { throw WouldWait() }
        return OpenReply(handle: 7)
    }

    func fsync(_ r: FsyncRequest, _ handles: HandleTable) throws -> EmptyReply {
        calls.append("fsync \(r.handle)")
        return EmptyReply()
    }

    func mount(_ r: MountRequest) throws -> MountReply { throw unused() }
    func getattr(_ r: GetattrRequest, _ handles: HandleTable) throws -> AttrReply { throw unused() }
    func setattr(_ r: SetattrRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> AttrReply { throw unused() }
    func readlink(_ r: PathRequest) throws -> ReadlinkReply { throw unused() }
    func statfs(_ r: PathRequest) throws -> StatfsReply { throw unused() }
    func access(_ r: AccessRequest) throws -> EmptyReply { throw unused() }
    func mknod(_ r: MknodRequest) throws -> AttrReply { throw unused() }
    func mkdir(_ r: MkdirRequest) throws -> AttrReply { throw unused() }
    func unlink(_ r: PathRequest, directory: Bool, _ waiting: Waiting) throws -> EmptyReply { throw unused() }
    func symlink(_ r: SymlinkRequest) throws -> AttrReply { throw unused() }
    func rename(_ r: TwoPathRequest, _ waiting: Waiting) throws -> EmptyReply { throw unused() }
    func link(_ r: TwoPathRequest) throws -> AttrReply { throw unused() }
    func openRead(_ r: OpenReadRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> OpenReadReply { throw unused() }
    func lookupOpen(_ r: OpenReadRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> LookupOpenReply { throw unused() }
    func create(_ r: CreateRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> CreateReply { throw unused() }
    func opendir(_ r: PathRequest, _ handles: HandleTable) throws -> OpenReply { throw unused() }
    func readdir(_ r: ReaddirRequest, _ handles: HandleTable, id: UInt64) throws -> [UInt8] { throw unused() }
    func lseek(_ r: LseekRequest, _ handles: HandleTable) throws -> LseekReply { throw unused() }
    func fallocate(_ r: FallocateRequest, _ handles: HandleTable) throws -> EmptyReply { throw unused() }
    func getxattr(_ r: XattrGetRequest) throws -> XattrReply { throw unused() }
    func listxattr(_ r: XattrGetRequest) throws -> XattrReply { throw unused() }
    func setxattr(_ r: SetxattrRequest) throws -> EmptyReply { throw unused() }
    func removexattr(_ r: RemovexattrRequest) throws -> EmptyReply { throw unused() }
    func hostMount(_ r: HostMountRequest, logger: Logger) throws -> EmptyReply { throw unused() }
    func hostUmount(_ r: HostUmountRequest, logger: Logger) throws -> EmptyReply { throw unused() }
}
