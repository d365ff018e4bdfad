// statfs, access and extended attributes.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

enum MiscOps {
    static func statfs(_ r: consuming FuseReply, _ ino: fuse_ino_t) {
        let fs = r.fs
        let ino = fs.proc?.isSynthetic(ino) == true ? fuse_ino_t(FUSE_ROOT_ID) : ino
        r.interruptible()
        do {
            let a = try fs.session.statfs(r.caller, try fs.path(ino))
            var s = statvfs()
            s.f_bsize = UInt(a.blockSize)
            s.f_frsize = UInt(a.fragmentSize)
            s.f_blocks = UInt(a.blocks)
            s.f_bfree = UInt(a.blocksFree)
            s.f_bavail = UInt(a.blocksAvailable)
            s.f_files = UInt(a.files)
            s.f_ffree = UInt(a.filesFree)
            s.f_favail = UInt(a.filesFree)
            s.f_namemax = UInt(a.nameMax)
            r.statfs(s)
        } catch { r.fail(error) }
    }

    static func access(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ mask: Int32) {
        let fs = r.fs
        if let proc = fs.proc, proc.isSynthetic(ino) { return r.ok() }
        r.ok { r in try fs.session.access(r.caller, try fs.path(ino), mask: UInt32(mask & 7)) }
    }

    static func getxattr(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ size: Int) {
        let fs = r.fs
        if fs.proc?.isSynthetic(ino) == true { return r.error(ENODATA) }
        r.interruptible()
        do {
            let n = bytes(name)
            let createdHere = n == AbsentXattrs.capability && fs.opens.createdOpen(UInt64(ino))
            if createdHere || fs.absentXattrs?.knowsAbsent(UInt64(ino), n) == true {
                throw Errno(ENODATA)
            }
            let want = UInt32(min(size, Wire.maxXattrValue))
            do {
                let x = try fs.session.getxattr(r.caller, try fs.path(ino), name: n, size: want)
                replyXattr(r, x, size)
            } catch let e as Errno where e.code == ENODATA && !fs.nodes.isPseudo(UInt64(ino)) {
                fs.absentXattrs?.noteAbsent(UInt64(ino), n)
                throw e
            }
        } catch { r.fail(error) }
    }

    static func listxattr(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ size: Int) {
        let fs = r.fs
        if fs.proc?.isSynthetic(ino) == true { return replyXattr(r, XattrReply(size: 0, data: []), size) }
        r.interruptible()
        do {
            let want = UInt32(min(size, Wire.maxXattrValue))
            let x = try fs.session.listxattr(r.caller, try fs.path(ino), size: want)
            replyXattr(r, x, size)
        } catch { r.fail(error) }
    }

    /// size 0 asks for the length only (fuse_reply_xattr); otherwise the data.
    private static func replyXattr(_ r: consuming FuseReply, _ x: XattrReply, _ size: Int) {
        if size == 0 { return r.xattrSize(Int(x.size)) }
        r.bytes(x.data)
    }

    static func setxattr(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                         _ value: UnsafePointer<CChar>?, _ size: Int, _ flags: Int32) {
        let fs = r.fs
        r.ok { r in
            guard size <= Wire.maxXattrValue else { throw Errno(E2BIG) }
            let v = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            try fs.session.setxattr(r.caller, try fs.path(ino), name: bytes(name), value: v,
                                    flags: UInt32(bitPattern: flags) & 3)
            fs.absentXattrs?.forget(UInt64(ino))
            fs.opens.forgetCreated(UInt64(ino))
            fs.childChanged(ino)   // ctime
        }
    }

    static func removexattr(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = r.fs
        r.ok { r in
            try fs.session.removexattr(r.caller, try fs.path(ino), name: bytes(name))
            fs.absentXattrs?.forget(UInt64(ino))
            fs.opens.forgetCreated(UInt64(ino))
            fs.childChanged(ino)
        }
    }
}
