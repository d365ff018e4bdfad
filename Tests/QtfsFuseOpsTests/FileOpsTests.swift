// Open, read, write, xattrs, rename and -o proc over the scripted server: what is answered
// locally and what goes to the server.
import CFuse
import Foundation
import Glibc
import QtfsClient
import QtfsProtocol
import QtfsTestSupport
import XCTest
@testable import QtfsFuseOps

final class FileOpsTests: XCTestCase {
    let root = fuse_ino_t(FUSE_ROOT_ID)

    /// A fixture whose server knows one regular file, looked up as `f` (its nodeid returned).
    private func withFile(_ configure: (inout MountSettings) -> Void = { _ in },
                          _ script: @escaping (Opcode) -> ScriptedServer.Action?) throws -> (OpsFixture, fuse_ino_t) {
        let f = try OpsFixture(configure)
        let file = Attr(dev: 1, ino: 60, size: 5, mode: 0o100644, nlink: 1)
        f.server.script = { op, _, _ in
            if let a = script(op) { return a }
            return op == .lookup ? .reply(f.encode(AttrReply(attr: file))) : .error(ENOSYS)
        }
        EntryOps.lookup(f.reply(), root, cname("f"))
        guard case .entry(let ino, _, _) = f.replies.last else { XCTFail("lookup: \(String(describing: f.replies.last))"); return (f, 0) }
        return (f, fuse_ino_t(ino))
    }

    func testSmallFileContentComesWithTheOpenAndAnswersTheFirstRead() throws {
        var fx: OpsFixture!
        let (f, ino) = try withFile { op in
            switch op {
            case .openRead: return .reply(fx.encode(OpenReadReply(OpenReply(handle: 3, flags: OpenReadReply.hasContent),
                                                                  content: Array("hello".utf8))))
            case .read: return .reply(Array("again".utf8))
            default: return nil
            }
        }
        fx = f
        var fi = fuse_file_info()
        fi.flags = O_RDONLY
        FileOps.open(f.reply(), ino, &fi)
        XCTAssertEqual(f.replies.last, .open(fh: fi.fh))
        FileOps.read(f.reply(), ino, 4096, 0, &fi)
        XCTAssertEqual(f.replies.last, .buf(Array("hello".utf8)))
        XCTAssertEqual(f.server.count(.read), 0, "answered from the open's content")
        FileOps.read(f.reply(), ino, 4096, 0, &fi)
        XCTAssertEqual(f.replies.last, .buf(Array("again".utf8)), "the content is used once; then the host is read")
        FileOps.release(f.reply(), ino, &fi)
        XCTAssertEqual(f.replies.last, .err(0))
    }

    func testWriteAnswersWhatTheHostWrote() throws {
        var fx: OpsFixture!
        let (f, ino) = try withFile { op in
            switch op {
            case .open: return .reply(fx.encode(OpenReply(handle: 4)))
            case .write: return .reply(fx.encode(WriteReply(written: 2)))
            default: return nil
            }
        }
        fx = f
        var fi = fuse_file_info()
        fi.flags = O_WRONLY
        FileOps.open(f.reply(), ino, &fi)
        FileOps.write(f.reply(), ino, "abc", 3, 0, &fi)
        XCTAssertEqual(f.replies.last, .write(2), "a short write stays short")
        XCTAssertEqual(f.server.count(.write), 1)
    }

    func testOperationsOnAHandleThatIsNotThereAreEBADF() throws {
        let (f, ino) = try withFile { _ in nil }
        var fi = fuse_file_info()
        FileOps.read(f.reply(), ino, 10, 0, &fi)
        XCTAssertEqual(f.replies.last, .err(EBADF))
        FileOps.fsync(f.reply(), ino, 0, &fi)
        XCTAssertEqual(f.replies.last, .err(EBADF))
    }

    /// The kernel asks for security.capability before every write, ls -l for the SELinux
    /// label and the ACL of every file: a file without them is asked about once while
    /// attributes may be cached, and again after an xattr change through the mount.
    func testMissingCapabilityLabelAndAclAreAskedForOnce() throws {
        let (f, ino) = try withFile { $0 == .getxattr ? .error(ENODATA) : $0 == .removexattr ? .reply([]) : nil }
        let names = ["security.capability", "security.selinux", "system.posix_acl_access"]
        for _ in 0..<2 {
            for name in names {
                MiscOps.getxattr(f.reply(), ino, name, 0)
                XCTAssertEqual(f.replies.last, .err(ENODATA))
            }
        }
        XCTAssertEqual(f.server.count(.getxattr), 3)
        MiscOps.getxattr(f.reply(), ino, "user.other", 0)
        MiscOps.getxattr(f.reply(), ino, "user.other", 0)
        XCTAssertEqual(f.server.count(.getxattr), 5, "other names are always asked")
        MiscOps.removexattr(f.reply(), ino, "user.other")
        XCTAssertEqual(f.replies.last, .err(0))
        MiscOps.getxattr(f.reply(), ino, "security.selinux", 0)
        XCTAssertEqual(f.server.count(.getxattr), 6, "an xattr change through the mount forgets the file")
    }

    func testRenameWithFlagsLinuxDoesNotKnowIsEINVAL() throws {
        let (f, _) = try withFile { _ in nil }
        NamespaceOps.rename(f.reply(), root, "f", root, "g", 8)
        XCTAssertEqual(f.replies.last, .err(EINVAL))
        XCTAssertEqual(f.server.count(.rename), 0)
    }

    /// -o proc: "self" at the root is a link to the caller's own pid under local_proc,
    /// answered without the server and never cached.
    func testProcSelfIsTheCallersOwnLink() throws {
        let f = try OpsFixture { $0.proc = true; $0.localProc = "/nonexistent-local-proc"; $0.mountpoint = "/proc" }
        f.replies.ctx.pid = 4_000_001   // above any pid here: no tgid is found, the tid is used
        EntryOps.lookup(f.reply(), root, cname("self"))
        XCTAssertEqual(f.replies.last, .entry(ino: ProcMode.selfId, mode: 0o120777, entryTimeout: 0))
        EntryOps.readlink(f.reply(), fuse_ino_t(ProcMode.selfId))
        XCTAssertEqual(f.replies.last, .readlink("/nonexistent-local-proc/4000001"))
        XCTAssertEqual(f.server.count(.lookup) + f.server.count(.readlink), 0)
    }

    /// -o proc: a pid at the root is the caller's own link only when the caller is a thread
    /// of that process (any of its threads); another pid, or another thread's id, is the
    /// host's, asked of the server. The real procfs plays the DPU's.
    func testOwnPidIsTheCallersProcessNotItsThreadIds() throws {
        let f = try OpsFixture { $0.proc = true; $0.localProc = "/proc"; $0.mountpoint = "/mnt/qtfs-test-proc" }
        f.server.script = { op, _, _ in
            op == .lookup ? .reply(f.encode(AttrReply(attr: Attr(dev: 1, ino: 70, size: 0, mode: 0o40555, nlink: 9))))
                          : .error(ENOSYS)
        }
        let worker = ParkedThread()
        defer { worker.release() }
        let pid = getpid(), tid = worker.tid

        f.replies.ctx.pid = tid   // a second thread of this process asks for the process's pid
        EntryOps.lookup(f.reply(), root, cname("\(pid)"))
        XCTAssertEqual(f.replies.last, .entry(ino: ProcMode.ownPidId, mode: 0o120777, entryTimeout: 0))
        XCTAssertEqual(f.server.count(.lookup), 0)

        f.replies.ctx.pid = pid   // a thread id is no process of its own: the host's
        EntryOps.lookup(f.reply(), root, cname("\(tid)"))
        XCTAssertEqual(f.server.count(.lookup), 1)
        EntryOps.lookup(f.reply(), root, cname("1"))   // another process: the host's
        XCTAssertEqual(f.server.count(.lookup), 2)
    }

    /// The procfs that shows FUSE's pid numbers is the one whose self is this process;
    /// a root that is missing (local_proc not mounted yet) is passed over, and none found
    /// is nil (each lookup then asks every root).
    func testTheCallersProcfsIsTheOneWhoseSelfIsThisProcess() {
        XCTAssertEqual(CallerProcfs(roots: ["/nonexistent-local-proc", "/proc"]).root, "/proc")
        XCTAssertEqual(CallerProcfs(roots: ["/proc/1/task", "/proc"]).root, "/proc", "a directory without self")
        XCTAssertNil(CallerProcfs(roots: ["/nonexistent-local-proc"]).root)
    }
}

/// A thread that waits until released, so that its id stays a live thread of this process.
private final class ParkedThread: @unchecked Sendable {
    private let started = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
    private(set) var tid: Int32 = 0

    init() {
        Thread.detachNewThread { [self] in
            // "<pid>/task/<tid>": the calling thread's id (Glibc's gettid is not imported)
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
            tid = Int32(link.split(separator: "/").last ?? "") ?? 0
            started.signal()
            done.wait()
        }
        started.wait()
    }

    func release() { done.signal() }
}
