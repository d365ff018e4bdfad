// The fuse_lowlevel_ops table and the INIT negotiation. Each entry turns libfuse's request
// into the reply value its operation answers with (the one place one is made) and calls
// the operation; the answer counts the request in FuseStats.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

extension FuseReply {
    /// For a libfuse callback: the mount's state is the session's userdata.
    init(_ req: fuse_req_t?, _ op: FuseOp) { self.init(req, fs: FS.of(req), op: op) }

    /// A request of mount `fs`, in flight from now until its answer.
    init(_ req: fuse_req_t?, fs: FS, op: FuseOp = .lookup) {
        self.req = req
        self.fs = fs
        self.op = op
        started = MonotonicClock.nanoseconds()
        FuseStats.inFlight.wrappingAdd(1, ordering: .relaxed)
    }
}

/// The operations for fuse_session_new, whose userdata must be the mount's `FS.userdata`.
public func makeOps() -> fuse_lowlevel_ops {
    var o = fuse_lowlevel_ops()
    o.`init` = { userdata, conn in FS.from(userdata).negotiate(conn!) }
    o.lookup = { req, a, b in EntryOps.lookup(FuseReply(req, .lookup), a, b) }
    o.forget = { req, a, b in EntryOps.forget(FuseReply(req, .forget), a, b) }
    o.forget_multi = { req, a, b in EntryOps.forgetMulti(FuseReply(req, .forget_multi), a, b) }
    o.getattr = { req, a, b in EntryOps.getattr(FuseReply(req, .getattr), a, b) }
    o.setattr = { req, a, b, c, d in EntryOps.setattr(FuseReply(req, .setattr), a, b, c, d) }
    o.readlink = { req, a in EntryOps.readlink(FuseReply(req, .readlink), a) }
    o.mknod = { req, a, b, c, d in NamespaceOps.mknod(FuseReply(req, .mknod), a, b, c, d) }
    o.mkdir = { req, a, b, c in NamespaceOps.mkdir(FuseReply(req, .mkdir), a, b, c) }
    o.unlink = { req, a, b in NamespaceOps.unlink(FuseReply(req, .unlink), a, b) }
    o.rmdir = { req, a, b in NamespaceOps.rmdir(FuseReply(req, .rmdir), a, b) }
    o.symlink = { req, a, b, c in NamespaceOps.symlink(FuseReply(req, .symlink), a, b, c) }
    o.rename = { req, a, b, c, d, e in NamespaceOps.rename(FuseReply(req, .rename), a, b, c, d, e) }
    o.link = { req, a, b, c in NamespaceOps.link(FuseReply(req, .link), a, b, c) }
    o.open = { req, a, b in FileOps.open(FuseReply(req, .open), a, b) }
    o.create = { req, a, b, c, d in FileOps.create(FuseReply(req, .create), a, b, c, d) }
    o.read = { req, a, b, c, d in FileOps.read(FuseReply(req, .read), a, b, c, d) }
    o.write = { req, a, b, c, d, e in FileOps.write(FuseReply(req, .write), a, b, c, d, e) }
    o.flush = { req, a, b in FileOps.flush(FuseReply(req, .flush), a, b) }
    o.fsync = { req, a, b, c in FileOps.fsync(FuseReply(req, .fsync), a, b, c) }
    o.release = { req, a, b in FileOps.release(FuseReply(req, .release), a, b) }
    o.lseek = { req, a, b, c, d in FileOps.lseek(FuseReply(req, .lseek), a, b, c, d) }
    o.fallocate = { req, a, b, c, d, e in FileOps.fallocate(FuseReply(req, .fallocate), a, b, c, d, e) }
    o.poll = { req, _, fi, ph in FifoOps.poll(FuseReply(req, .poll), fi, ph) }
    o.opendir = { req, a, b in DirOps.opendir(FuseReply(req, .opendir), a, b) }
    o.readdir = { req, a, b, c, d in DirOps.readdir(FuseReply(req, .readdir), a, b, c, d) }
    o.readdirplus = { req, a, b, c, d in DirOps.readdirplus(FuseReply(req, .readdirplus), a, b, c, d) }
    o.releasedir = { req, a, b in DirOps.releasedir(FuseReply(req, .releasedir), a, b) }
    o.statfs = { req, a in MiscOps.statfs(FuseReply(req, .statfs), a) }
    o.access = { req, a, b in MiscOps.access(FuseReply(req, .access), a, b) }
    o.setxattr = { req, a, b, c, d, e in MiscOps.setxattr(FuseReply(req, .setxattr), a, b, c, d, e) }
    o.getxattr = { req, a, b, c in MiscOps.getxattr(FuseReply(req, .getxattr), a, b, c) }
    o.listxattr = { req, a, b in MiscOps.listxattr(FuseReply(req, .listxattr), a, b) }
    o.removexattr = { req, a, b in MiscOps.removexattr(FuseReply(req, .removexattr), a, b) }
    return o
}

extension FS {
    func negotiate(_ conn: UnsafeMutablePointer<fuse_conn_info>) {
        let c = conn.pointee
        var want = c.want | UInt32(FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_DONT_MASK
                                   | FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO)
        // The server clears setuid/setgid on writes and truncates as the host kernel does
        // (HandlersFiles.swift). libfuse 3.14 does not pass this on to the kernel, which then
        // sends a chmod as the writer first; the server accepts that one too (HandlersSetattr.swift).
        want |= UInt32(FUSE_CAP_HANDLE_KILLPRIV)
        // Splice needs write_buf/reply_data; plain buffers measured no worse here.
        want &= ~UInt32(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE)
        // Locks stay local to the DPU (no lock ops in protocol v1).
        want &= ~UInt32(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS)
        if opts.writeback { want |= UInt32(FUSE_CAP_WRITEBACK_CACHE) } else { want &= ~UInt32(FUSE_CAP_WRITEBACK_CACHE) }
        want &= c.capable
        writeback = want & UInt32(FUSE_CAP_WRITEBACK_CACHE) != 0
        conn.pointee.want = want
        conn.pointee.max_write = UInt32(Wire.maxIOSize)
        conn.pointee.max_read = UInt32(Wire.maxIOSize)
        conn.pointee.max_readahead = UInt32(Wire.maxIOSize)
        conn.pointee.max_background = 64
        conn.pointee.congestion_threshold = 48
        conn.pointee.time_gran = 1
    }
}
