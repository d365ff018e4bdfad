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

    /// `.mustNotWait`: only an unlink or rmdir that frees little and waits for no other
    /// machine is made on the loop (`isCheapUnlink`); anything else throws `WouldWait`.
    func unlink(_ r: PathRequest, directory: Bool, _ waiting: Waiting) throws -> EmptyReply {
        try at(r.caller, r.target, write: true, gate: [directory ? .rmdir : .unlink]) { _, t in
            if waiting == .mustNotWait && !(try t.withName { n in isCheapUnlink(t.dir, n) }) { throw WouldWait() }
            try t.withName { n in try sys("unlinkat") { unlinkat(t.dir, n, directory ? AT_REMOVEDIR : 0) } }
            return EmptyReply()
        }
    }

    /// Removing `name` (by unlink, rmdir or a rename over it) takes microseconds: the file
    /// system is tmpfs or a local disk (as for MKDIR and CREATE, which run on the loop too)
    /// and what goes is not a file's last link to over `cheapUnlinkBytes` (freeing a big
    /// file's blocks takes long: ext4 frees them extent by extent). An absent name is cheap.
    func isCheapUnlink(_ dir: Int32, _ name: UnsafePointer<CChar>) -> Bool {
        guard Self.neverWaitsForAnotherMachine(pseudo.kind(of: dir)) else { return false }
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return errno == ENOENT }
        return Stat.type(st.st_mode) != S_IFREG || st.st_size <= Backend.cheapUnlinkBytes || st.st_nlink > 1
    }
    /// The largest file whose last link is removed on the loop.
    static let cheapUnlinkBytes = 1 << 20

    /// Metadata changes on these file systems are made on the loop when they free little.
    static func neverWaitsForAnotherMachine(_ kind: FsKind) -> Bool { kind == .memory || kind == .localDisk }

    func symlink(_ r: SymlinkRequest) throws -> AttrReply {
        try at(r.caller, r.target, write: true, gate: [.create]) { _, t in
            try r.linkTarget.withCStr { contents in
                try t.withName { n in try sys("symlinkat") { symlinkat(contents, t.dir, n) } }
            }
            return AttrReply(attr: try attr(t))
        }
    }

    /// `.mustNotWait`: made on the loop only when it replaces nothing costly
    /// (`isCheapUnlink` of the target name; an exchange replaces nothing).
    func rename(_ r: TwoPathRequest, _ waiting: Waiting) throws -> EmptyReply {
        guard r.from.export == r.to.export else { throw Errno(EXDEV) }
        return try at(r.caller, r.from, write: true, gate: [.rename]) { e, from in
            let to = try PathCheck.resolve(e, r.to.path)
            try require([.rename], to, r.to.path)
            if waiting == .mustNotWait {
                let exchange = r.flags & TwoPathRequest.renameExchange != 0
                let cheap = try to.withName { b in
                    exchange ? Self.neverWaitsForAnotherMachine(pseudo.kind(of: to.dir)) : isCheapUnlink(to.dir, b)
                }
                guard cheap else { throw WouldWait() }
            }
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
