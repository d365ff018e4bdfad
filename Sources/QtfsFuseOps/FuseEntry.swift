// What the kernel is told about a name: the nodeid it is registered under in the NodeTable
// (one lookup counted, which the reply gives back if its answer fails), its stat, and how
// long the kernel may keep both (CacheRules). LOOKUP, the operations that make a name and
// readdirplus build their entries here and hand them to the reply (FuseReply.swift).
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

extension FuseReply {
    /// Registers a name that the answer hands to the kernel, counting one lookup for it.
    mutating func found(parent: fuse_ino_t, name: [UInt8], attr: Attr) -> UInt64 {
        let id = fs.nodes.found(parent: UInt64(parent), name: name, attr: attr)
        counted.append(id)
        return id
    }

    /// Registers `name` (as `found`) and builds its entry with the mount's cache rules.
    mutating func foundEntry(parent: fuse_ino_t, name: [UInt8], attr: Attr) -> fuse_entry_param {
        fs.entry(found(parent: parent, name: name, attr: attr), attr, parent: parent, name: name)
    }

    /// The last counted name will not be sent after all (readdirplus: it did not fit).
    mutating func takeBackLast() {
        guard let id = counted.popLast() else { return }
        fs.nodes.forget(id, 1)
    }

    /// Registers `name` and answers with its entry, cached by the kernel for the timeouts
    /// but at most `life` seconds (what is left of a snapshot's lifetime). `fresh`: the
    /// attributes came from the host for a LOOKUP sent at that epoch by that caller, and
    /// may answer the GETATTR that follows (LookupAttrs.swift).
    consuming func entry(parent: fuse_ino_t, name: [UInt8], _ a: Attr, cacheAtMost life: Double = .infinity,
                         fresh: (epoch: UInt64, caller: Caller)? = nil) {
        var e = foundEntry(parent: parent, name: name, attr: a)
        e.entry_timeout = min(e.entry_timeout, life)
        e.attr_timeout = min(e.attr_timeout, life)
        if let fresh, e.attr_timeout == 0 { fs.lookupAttrs.keep(UInt64(e.ino), a, epoch: fresh.epoch, for: fresh.caller) }
        entry(e)
    }

    /// As `ok(after:)` for operations that make a name (`work` returns its attributes):
    /// answered with the name's entry.
    consuming func entry(parent: fuse_ino_t, name: [UInt8], after work: (borrowing FuseReply) throws -> Attr) {
        interruptible()
        do {
            let a = try work(self)
            entry(parent: parent, name: name, a)
        } catch { fail(error) }
    }
}

extension FS {
    /// The entry for `name` in `parent`, registered as node `id`.
    func entry(_ id: UInt64, _ a: Attr, parent: fuse_ino_t, name: [UInt8]) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = fuse_ino_t(id)
        e.attr = makeStat(a)
        e.attr_timeout = attrTimeout(a)
        e.entry_timeout = rules.entry(parent: UInt64(parent), name: name, pseudo: a.isPseudo)
        return e
    }

    func makeStat(_ a: Attr) -> stat {
        var st = stat()
        st.st_ino = UInt(inos.map(dev: a.dev, ino: a.ino))
        // A fifo node would be served by the DPU's own pipe code: show it as a regular file.
        st.st_mode = shownAsFile(a) ? a.mode & 0o7777 | 0o100000 : a.mode
        st.st_nlink = UInt(a.nlink)
        st.st_uid = a.uid
        st.st_gid = a.gid
        st.st_rdev = UInt(a.rdev)
        st.st_size = Int(bitPattern: UInt(a.size))
        st.st_blksize = Int(a.blksize)
        st.st_blocks = Int(bitPattern: UInt(a.blocks))
        st.st_atim = timespec(tv_sec: Int(a.atime.seconds), tv_nsec: Int(a.atime.nanoseconds))
        st.st_mtim = timespec(tv_sec: Int(a.mtime.seconds), tv_nsec: Int(a.mtime.nanoseconds))
        st.st_ctim = timespec(tv_sec: Int(a.ctime.seconds), tv_nsec: Int(a.ctime.nanoseconds))
        return st
    }

    /// Host fifos are served by the host (FifoOps) behind an inode shown as a regular file.
    func shownAsFile(_ a: Attr) -> Bool { opts.remoteFifos && a.mode & 0o170000 == 0o010000 }

    /// Attribute cache time: never for pseudo files, whose contents change on their own.
    func attrTimeout(_ a: Attr) -> Double { rules.attr(pseudo: a.isPseudo) }
}
