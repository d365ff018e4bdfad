// opendir, readdir, readdirplus, releasedir.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum DirOps {
    static func opendir(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.interruptible()
        do {
            let epoch = fs.lookupAttrs.epoch
            let h = try fs.session.opendir(r.caller, try fs.path(ino))
            FileOps.keepAttrAtOpen(fs, ino, h, epoch: epoch, r.caller)
            OpenDir(h, ino: ino, fs).attach(fi!)
            cacheListing(fs, ino, fi!)
            if !r.open(fi!) {
                if let d = OpenFile.detach(fi!) { fs.session.releasedir(d.remote) }
            }
        } catch { r.fail(error) }
    }

    /// Lets the kernel keep an ordinary directory's listing in its page cache, as it keeps
    /// file data: it drops the listing itself when this mount changes the directory or the
    /// directory's mtime changes; keep_cache is off when the mtime changed since the last open.
    /// Pseudo directories (/proc pids come and go without an mtime change) are always asked.
    private static func cacheListing(_ fs: FS, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>) {
        guard fs.rules.cachesListing(pseudo: fs.nodes.isPseudo(UInt64(ino))) else { return }
        fi.pointee.cache_readdir = 1
        fi.pointee.keep_cache = fs.nodes.openedKeepsCache(UInt64(ino)) ? 1 : 0
    }

    static func readdir(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                        _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        fill(r, ino, size, off, fi, plus: false)
    }

    static func readdirplus(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                            _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        fill(r, ino, size, off, fi, plus: true)
    }

    /// Fills one buffer of entries from the directory's chunks. A chunk that fails to come
    /// after entries were added fails the whole call, and the reply gives back the lookups
    /// counted for the entries (the kernel never saw them).
    private static func fill(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                             _ fi: UnsafeMutablePointer<fuse_file_info>?, plus: Bool) {
        let fs = r.fs
        r.interruptible()
        guard let d = OpenFile.from(fi!) as? OpenDir else { return r.error(EBADF) }
        let buf = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        defer { buf.deallocate() }
        d.lock.lock()
        defer { d.lock.unlock() }
        var used = 0
        var pos = UInt64(bitPattern: Int64(off))
        do {
            while let e = try d.entry(after: pos, plus: plus, fs.session) {
                let n = add(&r, ino, e, plus, buf + used, size - used)
                if n == 0 { break }
                used += n
                pos = e.cookie
                d.advance()
            }
        } catch { return r.fail(error) }
        r.buf(UnsafeRawBufferPointer(start: buf, count: used))
    }

    /// Adds one entry; returns the bytes used, or 0 if it did not fit.
    private static func add(_ r: inout FuseReply, _ dir: fuse_ino_t, _ e: DirEntry, _ plus: Bool,
                            _ buf: UnsafeMutablePointer<CChar>, _ room: Int) -> Int {
        let fs = r.fs, req = r.req
        let off = off_t(bitPattern: UInt(e.cookie))
        if !plus {
            var st = stat()
            st.st_ino = UInt(fs.inos.map(dev: fs.session.root.dev, ino: e.ino))
            st.st_mode = UInt32(e.type) << 12
            let n = withCName(e.name) { fuse_add_direntry(req, buf, room, $0, &st, off) }
            return n > room ? 0 : n
        }
        var ep = plusEntry(&r, dir, e)
        let n = withCName(e.name) { fuse_add_direntry_plus(req, buf, room, $0, &ep, off) }
        if n > room {   // not sent: take back the lookup counted for it
            if ep.ino != 0 { r.takeBackLast() }
            return 0
        }
        return n
    }

    private static func withCName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        var z = name
        z.append(0)
        return z.withUnsafeBufferPointer { nb in
            nb.baseAddress!.withMemoryRebound(to: CChar.self, capacity: nb.count, body)
        }
    }

    /// The entry for readdirplus. No nodeid (ino 0: the kernel only lists it) for ".",
    /// "..", vanished entries and proc mode's synthetic links. Otherwise one lookup is
    /// counted, as the kernel counts one for every entry with a nodeid it receives.
    private static func plusEntry(_ r: inout FuseReply, _ dir: fuse_ino_t, _ e: DirEntry) -> fuse_entry_param {
        let fs = r.fs
        let dotOrDotDot = e.name == [46] || e.name == [46, 46]
        guard let a = e.attr, !dotOrDotDot, fs.proc?.syntheticId(dir, e.name) == nil else {
            var ep = fuse_entry_param()
            ep.attr.st_ino = UInt(fs.inos.map(dev: fs.session.root.dev, ino: e.ino))
            ep.attr.st_mode = UInt32(e.type) << 12
            return ep
        }
        fs.keptPids?.note(fs.rules, parent: dir, name: e.name, a)
        return r.foundEntry(parent: dir, name: e.name, attr: a)
    }

    /// Fire-and-forget, like release.
    static func releasedir(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        guard let d = OpenFile.detach(fi!) else { return r.error(EBADF) }
        r.fs.session.releasedir(d.remote)
        r.ok()
    }
}
