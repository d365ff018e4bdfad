// The fuse_lowlevel_ops table and the INIT negotiation.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

/// The operations for fuse_session_new, whose userdata must be the mount's `FS.userdata`.
public func makeOps() -> fuse_lowlevel_ops {
    var o = fuse_lowlevel_ops()
    o.`init` = { userdata, conn in FS.from(userdata).negotiate(conn!) }
    o.lookup = { req, a, b in timed(.lookup) { EntryOps.lookup(FuseReply(req), a, b) } }
    o.forget = { req, a, b in timed(.forget) { EntryOps.forget(FuseReply(req), a, b) } }
    o.forget_multi = { req, a, b in timed(.forget_multi) { EntryOps.forgetMulti(FuseReply(req), a, b) } }
    o.getattr = { req, a, b in timed(.getattr) { EntryOps.getattr(FuseReply(req), a, b) } }
    o.setattr = { req, a, b, c, d in timed(.setattr) { EntryOps.setattr(FuseReply(req), a, b, c, d) } }
    o.readlink = { req, a in timed(.readlink) { EntryOps.readlink(FuseReply(req), a) } }
    o.mknod = { req, a, b, c, d in timed(.mknod) { NamespaceOps.mknod(FuseReply(req), a, b, c, d) } }
    o.mkdir = { req, a, b, c in timed(.mkdir) { NamespaceOps.mkdir(FuseReply(req), a, b, c) } }
    o.unlink = { req, a, b in timed(.unlink) { NamespaceOps.unlink(FuseReply(req), a, b) } }
    o.rmdir = { req, a, b in timed(.rmdir) { NamespaceOps.rmdir(FuseReply(req), a, b) } }
    o.symlink = { req, a, b, c in timed(.symlink) { NamespaceOps.symlink(FuseReply(req), a, b, c) } }
    o.rename = { req, a, b, c, d, e in timed(.rename) { NamespaceOps.rename(FuseReply(req), a, b, c, d, e) } }
    o.link = { req, a, b, c in timed(.link) { NamespaceOps.link(FuseReply(req), a, b, c) } }
    o.open = { req, a, b in timed(.open) { FileOps.open(FuseReply(req), a, b) } }
    o.create = { req, a, b, c, d in timed(.create) { FileOps.create(FuseReply(req), a, b, c, d) } }
    o.read = { req, a, b, c, d in timed(.read) { FileOps.read(FuseReply(req), a, b, c, d) } }
    o.write = { req, a, b, c, d, e in timed(.write) { FileOps.write(FuseReply(req), a, b, c, d, e) } }
    o.flush = { req, a, b in timed(.flush) { FileOps.flush(FuseReply(req), a, b) } }
    o.fsync = { req, a, b, c in timed(.fsync) { FileOps.fsync(FuseReply(req), a, b, c) } }
    o.release = { req, a, b in timed(.release) { FileOps.release(FuseReply(req), a, b) } }
    o.lseek = { req, a, b, c, d in timed(.lseek) { FileOps.lseek(FuseReply(req), a, b, c, d) } }
    o.fallocate = { req, a, b, c, d, e in timed(.fallocate) { FileOps.fallocate(FuseReply(req), a, b, c, d, e) } }
    o.poll = { req, _, fi, ph in timed(.poll) { FifoOps.poll(FuseReply(req), fi, ph) } }
    o.opendir = { req, a, b in timed(.opendir) { DirOps.opendir(FuseReply(req), a, b) } }
    o.readdir = { req, a, b, c, d in timed(.readdir) { DirOps.readdir(FuseReply(req), a, b, c, d) } }
    o.readdirplus = { req, a, b, c, d in timed(.readdirplus) { DirOps.readdirplus(FuseReply(req), a, b, c, d) } }
    o.releasedir = { req, a, b in timed(.releasedir) { DirOps.releasedir(FuseReply(req), a, b) } }
    o.statfs = { req, a in timed(.statfs) { MiscOps.statfs(FuseReply(req), a) } }
    o.access = { req, a, b in timed(.access) { MiscOps.access(FuseReply(req), a, b) } }
    o.setxattr = { req, a, b, c, d, e in timed(.setxattr) { MiscOps.setxattr(FuseReply(req), a, b, c, d, e) } }
    o.getxattr = { req, a, b, c in timed(.getxattr) { MiscOps.getxattr(FuseReply(req), a, b, c) } }
    o.listxattr = { req, a, b in timed(.listxattr) { MiscOps.listxattr(FuseReply(req), a, b) } }
    o.removexattr = { req, a, b in timed(.removexattr) { MiscOps.removexattr(FuseReply(req), a, b) } }
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
