// One line per opcode for the operations that run on worker threads. Each returns the
// complete response frame; errors become an errno status with an empty payload.
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol

/// A request handed from the event loop to a worker.
struct Job: @unchecked Sendable {
    let conn: UInt64
    let opcode: UInt16
    let id: UInt64
    let payload: [UInt8]
    let handles: HandleTable
}

/// Thrown by an operation started on the event loop that turns out to need a worker
/// (an OPEN whose target is not a regular file or directory).
struct NeedsWorker: Error {}

struct Dispatcher: @unchecked Sendable {
    static let handleOps: Set<Opcode> = [.readdir, .fsync, .lseek, .fallocate]
    /// Run on the event loop itself: on local file systems they take a few microseconds,
    /// less than the two thread hand-offs a worker costs. What may block for long stays on
    /// workers: FSYNC, FALLOCATE, SETATTR (truncate), RENAME, UNLINK except of small tmpfs
    /// files (freeing large files), MOUNT, HOST_MOUNT, HOST_UMOUNT, and OPEN of anything but a regular file or directory.
    static let inlineOps: Set<UInt16> = Set([Opcode.lookup, .getattr, .readlink, .access, .statfs, .open, .openRead,
                                             .opendir, .readdir, .getxattr, .listxattr, .create, .mkdir,
                                             .mknod, .symlink, .link, .lseek, .unlink].map(\.rawValue))
    let backend: Backend
    let logger: Logger

    func run(_ job: Job) -> [UInt8] {
        job.payload.withUnsafeBytes { runOrDecline(job, $0, inline: false)! }
    }

    /// On the event loop: the answer, or nil when the request must go to a worker.
    func runInline(_ job: Job, _ payload: UnsafeRawBufferPointer) -> [UInt8]? {
        runOrDecline(job, payload, inline: true)
    }

    private func runOrDecline(_ job: Job, _ payload: UnsafeRawBufferPointer, inline: Bool) -> [UInt8]? {
        do {
            return try dispatch(job, payload, inline: inline)
        } catch is NeedsWorker {
            return nil
        } catch let e as FsError {
            if e.errno == EMFILE {   // the connection's max_handles, or the server's own fd limit
                logger.warning("too many open files", metadata: ["conn.id": "\(job.conn)", "req.op": "\(job.opcode)"])
            }
            return FrameHeader.errorFrame(opcode: job.opcode, id: job.id, errno: e.errno)
        } catch let e as WireError {
            logger.debug("bad payload", metadata: ["req.op": "\(job.opcode)", "req.id": "\(job.id)", "error": "\(e)"])
            return FrameHeader.errorFrame(opcode: job.opcode, id: job.id, errno: e.errno)
        } catch {
            return FrameHeader.errorFrame(opcode: job.opcode, id: job.id, errno: EIO)
        }
    }

    private func dispatch(_ job: Job, _ p: UnsafeRawBufferPointer, inline: Bool) throws -> [UInt8] {
        let b = backend, h = job.handles
        guard let op = Opcode(rawValue: job.opcode) else { throw FsError(ENOSYS) }
        // Requests with a caller switch identity themselves; the rest act as the server.
        if Dispatcher.handleOps.contains(op) { try Credentials.asServer() }
        func reply<P: WirePayload>(_ payload: P) -> [UInt8] {
            FrameHeader.frame(kind: .response, opcode: op, id: job.id, payload: payload)
        }
        switch op {
        case .mount: return reply(try b.mount(.decode(p)))
        case .lookup: return reply(try b.lookup(.decode(p)))
        case .getattr: return reply(try b.getattr(.decode(p), h))
        case .setattr: return reply(try b.setattr(.decode(p), h))
        case .readlink: return reply(try b.readlink(.decode(p)))
        case .mknod: return reply(try b.mknod(.decode(p)))
        case .mkdir: return reply(try b.mkdir(.decode(p)))
        case .unlink: return reply(try b.unlink(.decode(p), directory: false, onLoop: inline))
        case .rmdir: return reply(try b.unlink(.decode(p), directory: true))
        case .symlink: return reply(try b.symlink(.decode(p)))
        case .rename: return reply(try b.rename(.decode(p)))
        case .link: return reply(try b.link(.decode(p)))
        case .open: return reply(try b.open(.decode(p), h, onLoop: inline))
        case .openRead: return reply(try b.openRead(.decode(p), h, onLoop: inline))
        case .create: return reply(try b.create(.decode(p), h, onLoop: inline))
        case .fsync: return reply(try b.fsync(.decode(p), h))
        case .opendir: return reply(try b.opendir(.decode(p), h))
        case .readdir: return try b.readdir(.decode(p), h, id: job.id)
        case .statfs: return reply(try b.statfs(.decode(p)))
        case .access: return reply(try b.access(.decode(p)))
        case .getxattr: return reply(try b.getxattr(.decode(p)))
        case .setxattr: return reply(try b.setxattr(.decode(p)))
        case .listxattr: return reply(try b.listxattr(.decode(p)))
        case .removexattr: return reply(try b.removexattr(.decode(p)))
        case .lseek: return reply(try b.lseek(.decode(p), h))
        case .fallocate: return reply(try b.fallocate(.decode(p), h))
        case .hostMount: return reply(try HostMounts(backend: b, logger: logger).mount(.decode(p)))
        case .hostUmount: return reply(try HostMounts(backend: b, logger: logger).umount(.decode(p)))
        default: throw FsError(ENOSYS)
        }
    }
}
