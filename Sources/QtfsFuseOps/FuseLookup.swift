// LOOKUP, answered from a directory snapshot when one is fresh (DirPrefetch, docs/client.md).
// One request's path through the client, each file once (docs/architecture.md, "How a
// request flows"): the request (FuseRequest) → the parent's path (NodeTable) → the cache
// rules → the parent's snapshot (DirPrefetch) or the server (Session) → the name's entry
// (FuseEntry) → the answer (FuseReply).
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
        r.interruptible()
        if let proc = fs.proc {
            let pid = r.pid
            if let id = proc.lookupId(parent, n, pid: pid) { return r.entry(proc.entry(id, pid: pid)) }
        }
        if let a = fs.keptPids?.attr(fs.rules, parent: parent, name: n) { return r.entry(parent: parent, name: n, a) }
        let c = r.caller
        guard let p = fs.nodes.path(UInt64(parent), n) else { return r.error(ESTALE_) }
        if let a = fs.pidFiles?.take(n, in: UInt64(parent), for: c) { return r.entry(parent: parent, name: n, a) }
        let walk = fs.walkAhead, tid = walk == nil ? 0 : r.pid
        if let walk {
            walk.learn(tid: tid, dir: fs.nodes.path(UInt64(parent)) ?? [], name: n)
            if let hit = walk.take(p, for: c) {
                walk.found(tid: tid, p)
                return r.entry(parent: parent, name: n, hit.attr, fresh: (hit.epoch, c))
            }
        }
        let dir = Parent(id: UInt64(parent), pseudo: fs.nodes.isPseudo(UInt64(parent)), rules: fs.rules)
        switch fromSnapshot(fs, dir, n, c) {
        case .found(let a, let life): return r.entry(parent: parent, name: n, a, cacheAtMost: life)
        case .absent(let life): return replyAbsent(r, dir, cacheAtMost: life)
        case nil: break
        }
        do {
            let epoch = fs.lookupAttrs.epoch
            let a = try fromHost(fs, parent, n, p, c, epoch: epoch)
            walk?.found(tid: tid, p)
            fs.keptPids?.note(fs.rules, parent: parent, name: n, a)
            r.entry(parent: parent, name: n, a, fresh: (epoch, c))
        } catch let e as Errno where e.code == ENOENT {
            fs.keptPids?.note(fs.rules, parent: parent, name: n, nil)
            replyAbsent(r, dir)
        } catch { r.fail(error) }
    }

    /// The host's answer for `p` (`n` in `parent`), with LOOKUPs sent ahead in the same
    /// round trip: the other files of a pid directory that ps and top open (PidFileNames),
    /// or on a mount that keeps no names, the rest of the walk seen last time (WalkAhead).
    /// `epoch`: LookupAttrs' before anything was sent.
    private static func fromHost(_ fs: FS, _ parent: fuse_ino_t, _ n: [UInt8], _ p: [UInt8], _ c: Caller,
                                 epoch: UInt64) throws -> Attr {
        if let pf = fs.pidFiles, PidFileNames.applies(fs.nodes, parent: UInt64(parent), name: n) {
            let dir = Array(p.dropLast(n.count))   // the parent's path and its "/"
            let ahead = pf.siblings(of: n, in: UInt64(parent), for: c).map { dir + $0 }
            return try fs.session.lookup(c, p, ahead: ahead) { path, attr in
                if let attr { pf.keep(Array(path[dir.count...]), in: UInt64(parent), for: c, attr) }
            }
        }
        if let walk = fs.walkAhead, case let ahead = walk.predicted(after: p), !ahead.isEmpty {
            return try fs.session.lookup(c, p, ahead: ahead) { path, attr in
                if let attr { walk.keep(path, for: c, attr, epoch: epoch) }
            }
        }
        return try fs.session.lookup(c, p)
    }

    /// The directory looked in, and what the cache rules allow there: asked once, before
    /// the snapshot or the server is.
    private struct Parent {
        let id: UInt64
        let prefetches: Bool
        /// How long an absence may be cached (0: not at all).
        let absence: Double

        init(id: UInt64, pseudo: Bool, rules: CacheRules) {
            self.id = id
            prefetches = rules.prefetches(dirPseudo: pseudo)
            absence = rules.absence(parentPseudo: pseudo)
        }
    }

    /// What the parent's snapshot says, fetching it on the second miss; nil: ask the server.
    private enum SnapshotAnswer { case found(Attr, life: Double), absent(life: Double) }

    private static func fromSnapshot(_ fs: FS, _ dir: Parent, _ n: [UInt8], _ c: Caller) -> SnapshotAnswer? {
        guard let pf = fs.prefetch, dir.prefetches else { return nil }
        var r = pf.lookup(dir.id, n, c)
        if r.answer == .unknown, let gen = pf.miss(dir.id, dirSize: fs.nodes.lastSize(dir.id)),
           let dirPath = fs.nodes.path(dir.id) {
            fs.session.prefetch(dirPath, into: pf, dir: dir.id, generation: gen, as: c)
            r = pf.lookup(dir.id, n, c)
        }
        switch r.answer {
        case .found(let a): return .found(a, life: r.life)
        // A name missing from the snapshot counts as absent only where absences may be
        // cached at all (negative_timeout > 0, not a pseudo directory); else the server is asked.
        case .absent where dir.absence > 0: return .absent(life: r.life)
        case .absent, .unknown: return nil
        }
    }

    /// Negative entry: the kernel caches the absence for negative_timeout (0 by default:
    /// sockets, fifos and pid files the host's side creates must be seen at once), never
    /// in a pseudo directory (CacheRules.absence). Not cached at all is a plain ENOENT: a
    /// negative entry with timeout 0 would still count as valid until the next jiffy (up
    /// to 4 ms at HZ=250), hiding a process or file the host creates right after.
    private static func replyAbsent(_ r: consuming FuseReply, _ dir: Parent, cacheAtMost life: Double = .infinity) {
        let keep = min(dir.absence, life)
        guard keep > 0 else { return r.error(ENOENT) }
        var neg = fuse_entry_param()
        neg.entry_timeout = keep
        r.entry(neg)
    }
}
