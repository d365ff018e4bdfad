// statfs, access and extended attributes.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum MiscOps {
    static func statfs(_ req: fuse_req_t?, _ ino: fuse_ino_t) {
        let fs = FS.shared!
        let ino = fs.proc?.isSynthetic(ino) == true ? fuse_ino_t(FUSE_ROOT_ID) : ino
        handle(req) {
            let r = try fs.session.statfs(caller(req), try fs.path(ino))
            var s = statvfs()
            s.f_bsize = UInt(r.blockSize)
            s.f_frsize = UInt(r.fragmentSize)
            s.f_blocks = UInt(r.blocks)
            s.f_bfree = UInt(r.blocksFree)
            s.f_bavail = UInt(r.blocksAvailable)
            s.f_files = UInt(r.files)
            s.f_ffree = UInt(r.filesFree)
            s.f_favail = UInt(r.filesFree)
            s.f_namemax = UInt(r.nameMax)
            fuse_reply_statfs(req, &s)
        }
    }

    static func access(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ mask: Int32) {
        let fs = FS.shared!
        if let proc = fs.proc, proc.isSynthetic(ino) { replyErr(req, 0); return }
        handle(req) {
            try fs.session.access(caller(req), try fs.path(ino), mask: UInt32(mask & 7))
            replyErr(req, 0)
        }
    }

    static func getxattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ size: Int) {
        let fs = FS.shared!
        if fs.proc?.isSynthetic(ino) == true { replyErr(req, ENODATA); return }
        handle(req) {
            let n = bytes(name), isCaps = n == NoCapsCache.name
            if isCaps, fs.noCaps?.knowsAbsent(UInt64(ino)) == true { throw FSError(ENODATA) }
            let want = UInt32(min(size, Wire.maxXattrValue))
            do {
                replyXattr(req, try fs.session.getxattr(caller(req), try fs.path(ino), name: n, size: want), size)
            } catch let e as FSError where e.errno == ENODATA && isCaps && !fs.nodes.isPseudo(UInt64(ino)) {
                fs.noCaps?.noteAbsent(UInt64(ino))
                throw e
            }
        }
    }

    static func listxattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int) {
        let fs = FS.shared!
        if fs.proc?.isSynthetic(ino) == true { replyXattr(req, XattrReply(size: 0, data: []), size); return }
        handle(req) {
            let want = UInt32(min(size, Wire.maxXattrValue))
            replyXattr(req, try fs.session.listxattr(caller(req), try fs.path(ino), size: want), size)
        }
    }

    /// size 0 asks for the length only (fuse_reply_xattr); otherwise the data.
    private static func replyXattr(_ req: fuse_req_t?, _ r: XattrReply, _ size: Int) {
        if size == 0 { fuse_reply_xattr(req, Int(r.size)); return }
        r.data.withUnsafeBytes { _ = fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
    }

    static func setxattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                         _ value: UnsafePointer<CChar>?, _ size: Int, _ flags: Int32) {
        let fs = FS.shared!
        handle(req) {
            guard size <= Wire.maxXattrValue else { throw FSError(E2BIG) }
            let v = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            try fs.session.setxattr(caller(req), try fs.path(ino), name: bytes(name), value: v,
                                    flags: UInt32(bitPattern: flags) & 3)
            fs.noCaps?.forget(UInt64(ino))
            fs.childChanged(ino)   // ctime
            replyErr(req, 0)
        }
    }

    static func removexattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = FS.shared!
        handle(req) {
            try fs.session.removexattr(caller(req), try fs.path(ino), name: bytes(name))
            fs.noCaps?.forget(UInt64(ino))
            fs.childChanged(ino)
            replyErr(req, 0)
        }
    }
}
