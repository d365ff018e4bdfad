// LOOKUP, answered from a directory snapshot when one is fresh (DirPrefetch, docs/client.md).
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

/// Linux's NAME_MAX: the longest name any local file system takes (FUSE's own limit is 1024).
let nameMax = 255

extension EntryOps {
    static func lookup(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        let fs = FS.shared!
        let n = bytes(name)
        // Checked before any snapshot or negative entry could call it absent; the kernel then
        // fails chmod, rmdir, open and every other call on the name with it, as locally.
        guard n.count <= nameMax else { replyErr(req, ENAMETOOLONG); return }
        if let proc = fs.proc, proc.lookup(req, parent, n) { return }
        handle(req) {
            let p = try fs.path(parent, n)
            let c = caller(req)
            if fromSnapshot(fs, req, parent, n, c) { return }
            do {
                fs.replyEntry(req, parent, n, try fs.session.lookup(c, p))
            } catch let e as FSError where e.errno == ENOENT && !fs.nodes.isPseudo(UInt64(parent)) {
                replyAbsent(fs, req)
            }
        }
    }

    /// Answers from the parent's snapshot, fetching it on the second miss. False: ask the server.
    private static func fromSnapshot(_ fs: FS, _ req: fuse_req_t?, _ parent: fuse_ino_t,
                                     _ n: [UInt8], _ c: Caller) -> Bool {
        let dir = UInt64(parent)
        guard let pf = fs.prefetch, !fs.nodes.isPseudo(dir) else { return false }
        var r = pf.lookup(dir, n, c)
        if r.answer == .unknown, let gen = pf.miss(dir), let dirPath = fs.nodes.path(dir) {
            pf.install(dir, generation: gen, fs.session.listWithAttrs(c, dirPath, maxEntries: pf.maxEntries), owner: c)
            r = pf.lookup(dir, n, c)
        }
        switch r.answer {
        case .found(let a): fs.replyEntry(req, parent, n, a, cacheAtMost: r.life)
        // A name missing from the snapshot counts as absent only where absences may be
        // cached at all (negative_timeout > 0); by default the server is asked.
        case .absent where fs.opts.negativeTimeout > 0: replyAbsent(fs, req, cacheAtMost: r.life)
        case .absent, .unknown: return false
        }
        return true
    }

    /// Negative entry: the kernel caches the absence for negative_timeout (0 by default:
    /// sockets, fifos and pid files the host's side creates must be seen at once).
    private static func replyAbsent(_ fs: FS, _ req: fuse_req_t?, cacheAtMost life: Double = .infinity) {
        var neg = fuse_entry_param()
        neg.entry_timeout = min(fs.opts.negativeTimeout, life)
        fuse_reply_entry(req, &neg)
    }
}
