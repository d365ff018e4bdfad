// mknod, mkdir, unlink, rmdir, symlink, rename, link. The umask goes to the server
// (FUSE_CAP_DONT_MASK), which applies it as the caller's process would.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum NamespaceOps {
    static func mknod(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                      _ mode: mode_t, _ rdev: dev_t) {
        let fs = FS.shared!, n = bytes(name)
        handle(req) {
            let a = try fs.session.mknod(caller(req), try fs.path(parent, n), mode: mode, rdev: UInt64(rdev), umask: umask(req))
            fs.dirChanged(parent, n, .found(a))
            if FifoOps.shownAsFile(fs, a) { return FifoOps.replyMknod(req, parent, n, a) }
            fs.replyEntry(req, parent, n, a)
        }
    }

    static func mkdir(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t) {
        let fs = FS.shared!, n = bytes(name)
        handle(req) {
            let a = try fs.session.mkdir(caller(req), try fs.path(parent, n), mode: mode, umask: umask(req))
            fs.dirChanged(parent, n, .found(a))
            fs.replyEntry(req, parent, n, a)
        }
    }

    static func unlink(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = FS.shared!, n = bytes(name)
        handle(req) {
            try fs.session.unlink(caller(req), try fs.path(parent, n))
            fs.dirChanged(parent, n, .absent)
            // Other names of the file are the same node: the kernel lowers its nlink itself,
            // but their snapshot entries would bring the old count back.
            for p in fs.nodes.removed(parent: UInt64(parent), name: n) { fs.prefetch?.note(p.parent, p.name, .unknown) }
            replyErr(req, 0)
        }
    }

    static func rmdir(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = FS.shared!, n = bytes(name)
        handle(req) {
            try fs.session.rmdir(caller(req), try fs.path(parent, n))
            fs.dirChanged(parent, n, .absent)
            fs.nodes.removed(parent: UInt64(parent), name: n)
            replyErr(req, 0)
        }
    }

    static func symlink(_ req: fuse_req_t?, _ link: UnsafePointer<CChar>?, _ parent: fuse_ino_t,
                        _ name: UnsafePointer<CChar>?) {
        let fs = FS.shared!, n = bytes(name)
        handle(req) {
            let a = try fs.session.symlink(caller(req), try fs.path(parent, n), contents: bytes(link))
            fs.dirChanged(parent, n, .found(a))
            fs.replyEntry(req, parent, n, a)
        }
    }

    static func rename(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                       _ newparent: fuse_ino_t, _ newname: UnsafePointer<CChar>?, _ flags: UInt32) {
        let fs = FS.shared!, n1 = bytes(name), n2 = bytes(newname)
        handle(req) {
            // Linux RENAME_NOREPLACE 1, RENAME_EXCHANGE 2 and RENAME_WHITEOUT 4 match the wire
            // (overlayfs needs the last on its upper layer); others are refused.
            guard flags & ~7 == 0 else { throw FSError(EINVAL) }
            try fs.session.rename(caller(req), try fs.path(parent, n1), try fs.path(newparent, n2), flags: flags)
            fs.dirChanged(parent, n1, flags & 6 != 0 ? .unknown : .absent)   // swapped, or a whiteout left
            fs.dirChanged(newparent, n2, .unknown)
            fs.nodes.renamed(UInt64(parent), n1, UInt64(newparent), n2, exchange: flags & 2 != 0)
            replyErr(req, 0)
        }
    }

    static func link(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ newparent: fuse_ino_t, _ newname: UnsafePointer<CChar>?) {
        let fs = FS.shared!, n = bytes(newname)
        handle(req) {
            let a = try fs.session.link(caller(req), try fs.path(ino), try fs.path(newparent, n))
            fs.dirChanged(newparent, n, .found(a))
            fs.childChanged(ino)   // its nlink changed
            // The new name is the same node (NodeTable): the kernel takes the new nlink
            // from this answer for every name.
            fs.replyEntry(req, newparent, n, a)
        }
    }
}
