// LOOKUP, answered from a directory snapshot when one is fresh (DirPrefetch, docs/client.md).
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

/// Linux's NAME_MAX: the longest name any local file system takes (FUSE's own limit is 1024).
let nameMax = 255

extension EntryOps {
    static func lookup(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = r.fs
        let n = bytes(name)
        // Checked before any snapshot or negative entry could call it absent; the kernel then
        // fails chmod, rmdir, open and every other call on the name with it, as locally.
        guard n.count <= nameMax else { return r.error(ENAMETOOLONG) }
        if let proc = fs.proc, let id = proc.lookupId(parent, n, pid: r.pid) { return r.entry(proc.entry(id, pid: r.pid)) }
        if let a = fs.keptAskerDependent(parent, n) { return r.entry(parent: parent, name: n, a) }
        r.interruptible()
        do {
            let p = try fs.path(parent, n)
            let c = r.caller, pseudoDir = fs.nodes.isPseudo(UInt64(parent))
            switch fromSnapshot(fs, parent, pseudoDir, n, c) {
            case .found(let a, let life): return r.entry(parent: parent, name: n, a, cacheAtMost: life)
            case .absent(let life): return replyAbsent(r, parentPseudo: pseudoDir, cacheAtMost: life)
            case nil: break
            }
            do {
                let a = try fs.session.lookup(c, p)
                fs.noteAskerDependent(parent, n, a)
                r.entry(parent: parent, name: n, a)
            } catch let e as Errno where e.code == ENOENT {
                fs.noteAskerDependent(parent, n, nil)
                replyAbsent(r, parentPseudo: pseudoDir)
            }
        } catch { r.fail(error) }
    }

    /// What the parent's snapshot says, fetching it on the second miss; nil: ask the server.
    private enum SnapshotAnswer { case found(Attr, life: Double), absent(life: Double) }

    private static func fromSnapshot(_ fs: FS, _ parent: fuse_ino_t, _ pseudoDir: Bool, _ n: [UInt8],
                                     _ c: Caller) -> SnapshotAnswer? {
        let dir = UInt64(parent)
        guard let pf = fs.prefetch, fs.rules.prefetches(dirPseudo: pseudoDir) else { return nil }
        var r = pf.lookup(dir, n, c)
        if r.answer == .unknown, let gen = pf.miss(dir), let dirPath = fs.nodes.path(dir) {
            fs.session.prefetch(dirPath, into: pf, dir: dir, generation: gen, as: c)
            r = pf.lookup(dir, n, c)
        }
        switch r.answer {
        case .found(let a): return .found(a, life: r.life)
        // A name missing from the snapshot counts as absent only where absences may be
        // cached at all (negative_timeout > 0, not a pseudo directory); else the server is asked.
        case .absent where fs.rules.absence(parentPseudo: pseudoDir) > 0: return .absent(life: r.life)
        case .absent, .unknown: return nil
        }
    }

    /// Negative entry: the kernel caches the absence for negative_timeout (0 by default:
    /// sockets, fifos and pid files the host's side creates must be seen at once), never
    /// in a pseudo directory (CacheRules.absence). Not cached at all is a plain ENOENT: a
    /// negative entry with timeout 0 would still count as valid until the next jiffy (up
    /// to 4 ms at HZ=250), hiding a process or file the host creates right after.
    private static func replyAbsent(_ r: consuming FuseReply, parentPseudo: Bool, cacheAtMost life: Double = .infinity) {
        let keep = min(r.fs.rules.absence(parentPseudo: parentPseudo), life)
        guard keep > 0 else { return r.error(ENOENT) }
        var neg = fuse_entry_param()
        neg.entry_timeout = keep
        r.entry(neg)
    }
}
