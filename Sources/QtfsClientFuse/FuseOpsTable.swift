// The fuse_lowlevel_ops table and the INIT negotiation.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

func makeOps() -> fuse_lowlevel_ops {
    var o = fuse_lowlevel_ops()
    o.`init` = { _, conn in FS.shared.negotiate(conn!) }
    o.lookup = { EntryOps.lookup($0, $1, $2) }
    o.forget = { EntryOps.forget($0, $1, $2) }
    o.forget_multi = { EntryOps.forgetMulti($0, $1, $2) }
    o.getattr = { EntryOps.getattr($0, $1, $2) }
    o.setattr = { EntryOps.setattr($0, $1, $2, $3, $4) }
    o.readlink = { EntryOps.readlink($0, $1) }
    o.mknod = { NamespaceOps.mknod($0, $1, $2, $3, $4) }
    o.mkdir = { NamespaceOps.mkdir($0, $1, $2, $3) }
    o.unlink = { NamespaceOps.unlink($0, $1, $2) }
    o.rmdir = { NamespaceOps.rmdir($0, $1, $2) }
    o.symlink = { NamespaceOps.symlink($0, $1, $2, $3) }
    o.rename = { NamespaceOps.rename($0, $1, $2, $3, $4, $5) }
    o.link = { NamespaceOps.link($0, $1, $2, $3) }
    o.open = { FileOps.open($0, $1, $2) }
    o.create = { FileOps.create($0, $1, $2, $3, $4) }
    o.read = { FileOps.read($0, $1, $2, $3, $4) }
    o.write = { FileOps.write($0, $1, $2, $3, $4, $5) }
    o.flush = { FileOps.flush($0, $1, $2) }
    o.fsync = { FileOps.fsync($0, $1, $2, $3) }
    o.release = { FileOps.release($0, $1, $2) }
    o.lseek = { FileOps.lseek($0, $1, $2, $3, $4) }
    o.fallocate = { FileOps.fallocate($0, $1, $2, $3, $4, $5) }
    o.opendir = { DirOps.opendir($0, $1, $2) }
    o.readdir = { DirOps.readdir($0, $1, $2, $3, $4) }
    o.readdirplus = { DirOps.readdirplus($0, $1, $2, $3, $4) }
    o.releasedir = { DirOps.releasedir($0, $1, $2) }
    o.statfs = { MiscOps.statfs($0, $1) }
    o.access = { MiscOps.access($0, $1, $2) }
    o.setxattr = { MiscOps.setxattr($0, $1, $2, $3, $4, $5) }
    o.getxattr = { MiscOps.getxattr($0, $1, $2, $3) }
    o.listxattr = { MiscOps.listxattr($0, $1, $2) }
    o.removexattr = { MiscOps.removexattr($0, $1, $2) }
    return o
}

extension FS {
    func negotiate(_ conn: UnsafeMutablePointer<fuse_conn_info>) {
        let c = conn.pointee
        var want = c.want | UInt32(FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_DONT_MASK
                                   | FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO)
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
