// Drives the FUSE operations without a kernel: a FuseReply built on a recorder instead of
// libfuse, a real Session and NodeTable, and a scripted fake server behind them.
import CFuse
import Glibc
import Logging
import QtfsClient
import QtfsProtocol
import QtfsSystem
import QtfsTestSupport
import XCTest
@testable import QtfsFuseOps

/// What an operation answered, one entry per answer.
enum Answer: Equatable {
    case err(Int32), none, entry(ino: UInt64, mode: UInt32, entryTimeout: Double), attr(ino: UInt64, size: Int)
    case buf([UInt8]), open(fh: UInt64), create(ino: UInt64), write(Int), readlink(String), other
}

/// A ReplyChannel that records. `refuse` makes libfuse's answer fail, as for a request
/// the kernel interrupted meanwhile.
final class RecordingReplies: ReplyChannel, @unchecked Sendable {
    private let lock = Lock()
    private(set) var answers: [Answer] = []
    var refuse = false
    var ctx = RequestContext(uid: 0, gid: 0, pid: 4242, umask: 0o022)

    private func note(_ a: Answer) -> Int32 { lock.withLock { answers.append(a) }; return refuse ? -ENOENT : 0 }
    var last: Answer? { lock.withLock { answers.last } }

    func context(_ req: fuse_req_t?) -> RequestContext { ctx }
    func groups(_ req: fuse_req_t?) -> [gid_t]? { nil }
    func onInterrupt(_ req: fuse_req_t?, _ f: fuse_interrupt_func_t, _ data: UnsafeMutableRawPointer?) {}
    func err(_ req: fuse_req_t?, _ e: Int32) { _ = note(.err(e)) }
    func none(_ req: fuse_req_t?) { _ = note(.none) }
    func entry(_ req: fuse_req_t?, _ e: UnsafePointer<fuse_entry_param>) -> Int32 {
        note(.entry(ino: UInt64(e.pointee.ino), mode: e.pointee.attr.st_mode, entryTimeout: e.pointee.entry_timeout))
    }
    func create(_ req: fuse_req_t?, _ e: UnsafePointer<fuse_entry_param>, _ fi: UnsafePointer<fuse_file_info>) -> Int32 {
        note(.create(ino: UInt64(e.pointee.ino)))
    }
    func open(_ req: fuse_req_t?, _ fi: UnsafePointer<fuse_file_info>) -> Int32 { note(.open(fh: fi.pointee.fh)) }
    func attr(_ req: fuse_req_t?, _ st: UnsafePointer<stat>, _ timeout: Double) -> Int32 {
        note(.attr(ino: UInt64(st.pointee.st_ino), size: st.pointee.st_size))
    }
    func readlink(_ req: fuse_req_t?, _ link: UnsafePointer<CChar>) -> Int32 { note(.readlink(String(cString: link))) }
    func buf(_ req: fuse_req_t?, _ data: UnsafeRawBufferPointer) -> Int32 { note(.buf(Array(data))) }
    func write(_ req: fuse_req_t?, _ count: Int) -> Int32 { note(.write(count)) }
    func statfs(_ req: fuse_req_t?, _ s: UnsafePointer<statvfs>) -> Int32 { note(.other) }
    func xattr(_ req: fuse_req_t?, _ size: Int) -> Int32 { note(.other) }
    func lseek(_ req: fuse_req_t?, _ off: off_t) -> Int32 { note(.other) }
    func poll(_ req: fuse_req_t?, _ revents: UInt32) -> Int32 { note(.other) }
}

/// One mount's operations over a scripted server.
final class OpsFixture {
    let server = ScriptedServer()
    let replies = RecordingReplies()
    let session: Session
    let fs: FS
    private var nextReq = 0x1000

    init(_ configure: (inout MountSettings) -> Void = { _ in }) throws {
        session = try Session.open(ServerAddress(host: "127.0.0.1", port: server.port), hostPath: "/", count: 1,
                                   caller: Caller(uid: 0, gid: 0))
        var settings = MountSettings()
        configure(&settings)
        fs = FS(session: session, settings: settings, logger: Logger(label: "test"), replies: replies)
    }

    deinit { session.close() }

    /// A reply for a new request (a distinct fake fuse_req_t; the recorder never reads it).
    func reply() -> FuseReply {
        nextReq += 16
        return FuseReply(OpaquePointer(bitPattern: nextReq), fs: fs)
    }

    func encode<P: WirePayload>(_ p: P) -> [UInt8] { server.encode(p) }
}

func cname(_ s: String) -> [CChar] { Array(s.utf8CString) }
