// mknod, mkdir, unlink, rmdir, symlink, rename, link. The umask goes to the server
// (FUSE_CAP_DONT_MASK), which applies it as the caller's process would.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

enum NamespaceOps {
    static func mknod(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                      _ mode: mode_t, _ rdev: dev_t) {
        let fs = r.fs, n = bytes(name)
        r.interruptible()
        do {
            let a = try fs.session.mknod(r.caller, try fs.path(parent, n), mode: mode, rdev: UInt64(rdev), umask: r.umask)
            fs.dirChanged(parent, n, .found(a))
            if fs.shownAsFile(a) { return FifoOps.replyMknod(r, parent, n, a) }
            r.entry(parent: parent, name: n, a)
        } catch { r.fail(error) }
    }

    static func mkdir(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t) {
        let fs = r.fs, n = bytes(name)
        r.entry(parent: parent, name: n) { r in
            let a = try fs.session.mkdir(r.caller, try fs.path(parent, n), mode: mode, umask: r.umask)
            fs.dirChanged(parent, n, .found(a))
            return a
        }
    }

    static func unlink(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = r.fs, n = bytes(name)
        r.ok { r in
            try fs.session.unlink(r.caller, try fs.path(parent, n))
            fs.dirChanged(parent, n, .absent)
            // Other names of the file are the same node: the kernel lowers its nlink itself,
            // but their snapshot entries would bring the old count back.
            for p in fs.nodes.removed(parent: UInt64(parent), name: n) { fs.prefetch?.note(p.parent, p.name, .unknown) }
        }
    }

    static func rmdir(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = r.fs, n = bytes(name)
        r.ok { r in
            try fs.session.rmdir(r.caller, try fs.path(parent, n))
            fs.dirChanged(parent, n, .absent)
            fs.nodes.removed(parent: UInt64(parent), name: n)
        }
    }

    static func symlink(_ r: consuming FuseReply, _ link: UnsafePointer<CChar>?, _ parent: fuse_ino_t,
                        _ name: UnsafePointer<CChar>?) {
        let fs = r.fs, n = bytes(name)
        r.entry(parent: parent, name: n) { r in
            let a = try fs.session.symlink(r.caller, try fs.path(parent, n), contents: bytes(link))
            fs.dirChanged(parent, n, .found(a))
            return a
        }
    }

    static func rename(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                       _ newparent: fuse_ino_t, _ newname: UnsafePointer<CChar>?, _ flags: UInt32) {
        let fs = r.fs, n1 = bytes(name), n2 = bytes(newname)
        r.ok { r in
            // Linux RENAME_NOREPLACE 1, RENAME_EXCHANGE 2 and RENAME_WHITEOUT 4 match the wire
            // (overlayfs needs the last on its upper layer); others are refused.
            guard flags & ~7 == 0 else { throw Errno(EINVAL) }
            try fs.session.rename(r.caller, try fs.path(parent, n1), try fs.path(newparent, n2), flags: flags)
            fs.dirChanged(parent, n1, flags & 6 != 0 ? .unknown : .absent)   // swapped, or a whiteout left
            fs.dirChanged(newparent, n2, .unknown)
            fs.nodes.renamed(UInt64(parent), n1, UInt64(newparent), n2, exchange: flags & 2 != 0)
        }
    }

    static func link(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ newparent: fuse_ino_t, _ newname: UnsafePointer<CChar>?) {
        let fs = r.fs, n = bytes(newname)
        // The new name is the same node (NodeTable): the kernel takes the new nlink from
        // this answer for every name.
        r.entry(parent: newparent, name: n) { r in
            let a = try fs.session.link(r.caller, try fs.path(ino), try fs.path(newparent, n))
            fs.dirChanged(newparent, n, .found(a))
            fs.childChanged(ino)   // its nlink changed
            return a
        }
    }
}
