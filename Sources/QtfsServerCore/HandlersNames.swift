// MKNOD, MKDIR, UNLINK, RMDIR, SYMLINK, RENAME, LINK: directory entry changes.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

extension Backend {
    func mknod(_ r: MknodRequest) throws -> AttrReply {
        try at(r.caller, r.target, write: true, gate: [.create]) { _, t in
            let mode = r.mode & ~(r.umask & 0o7777)
            try t.withName { n in try sys("mknodat") { mknodat(t.dir, n, mode, dev_t(r.rdev)) } }
            return AttrReply(attr: try attr(t))
        }
    }

    func mkdir(_ r: MkdirRequest) throws -> AttrReply {
        try at(r.caller, r.target, write: true, gate: [.mkdir]) { _, t in
            let mode = r.mode & 0o7777 & ~r.umask
            try t.withName { n in try sys("mkdirat") { mkdirat(t.dir, n, mode) } }
            return AttrReply(attr: try attr(t))
        }
    }

    /// `.mustNotWait`: only an unlink that frees little memory and waits for no device is
    /// made (a small file on tmpfs); anything else throws `WouldWait`.
    func unlink(_ r: PathRequest, directory: Bool, _ waiting: Waiting) throws -> EmptyReply {
        try at(r.caller, r.target, write: true, gate: [directory ? .rmdir : .unlink]) { _, t in
            if waiting == .mustNotWait && !(try t.withName { n in isCheapUnlink(t.dir, n) }) { throw WouldWait() }
            try t.withName { n in try sys("unlinkat") { unlinkat(t.dir, n, directory ? AT_REMOVEDIR : 0) } }
            return EmptyReply()
        }
    }

    private func isCheapUnlink(_ dir: Int32, _ name: UnsafePointer<CChar>) -> Bool {
        var st = stat()
        guard pseudo.kind(of: dir) == .memory, fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        return Stat.type(st.st_mode) != S_IFREG || st.st_size <= Backend.cheapUnlinkBytes || st.st_nlink > 1
    }
    /// A tmpfs file up to this size is unlinked on the loop: freeing its pages takes microseconds.
    static let cheapUnlinkBytes = 1 << 20

    func symlink(_ r: SymlinkRequest) throws -> AttrReply {
        try at(r.caller, r.target, write: true, gate: [.create]) { _, t in
            try r.linkTarget.withCStr { contents in
                try t.withName { n in try sys("symlinkat") { symlinkat(contents, t.dir, n) } }
            }
            return AttrReply(attr: try attr(t))
        }
    }

    func rename(_ r: TwoPathRequest) throws -> EmptyReply {
        guard r.from.export == r.to.export else { throw Errno(EXDEV) }
        return try at(r.caller, r.from, write: true, gate: [.rename]) { e, from in
            let to = try PathCheck.resolve(e, r.to.path)
            try require([.rename], to, r.to.path)
            try from.withName { a in
                try to.withName { b in try sys("renameat2") { qtfs_renameat2(from.dir, a, to.dir, b, r.flags) } }
            }
            return EmptyReply()
        }
    }

    func link(_ r: TwoPathRequest) throws -> AttrReply {
        guard r.flags == 0 else { throw Errno(EINVAL) }
        guard r.from.export == r.to.export else { throw Errno(EXDEV) }
        // A new name for a file: it must be one the client may open, in a place it may create in.
        return try at(r.caller, r.from, write: true, gate: [.open]) { e, from in
            let to = try PathCheck.resolve(e, r.to.path)
            try require([.create], to, r.to.path)
            try from.withName { a in
                try to.withName { b in try sys("linkat") { linkat(from.dir, a, to.dir, b, 0) } }
            }
            return AttrReply(attr: try attr(to))
        }
    }
}
