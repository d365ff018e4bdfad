// opendir, readdir, readdirplus, releasedir.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum DirOps {
    static func opendir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            let h = try fs.session.opendir(caller(req), try fs.path(ino))
            OpenDir(h, ino: ino, fs).attach(fi!)
            cacheListing(fs, ino, fi!)
            if fuse_reply_open(req, fi) != 0 {
                if let d = OpenFile.detach(fi!) { fs.session.releasedir(d.remote) }
            }
        }
    }

    /// Lets the kernel keep an ordinary directory's listing in its page cache, as it keeps
    /// file data: it drops the listing itself when this mount changes the directory or the
    /// directory's mtime changes; keep_cache is off when the mtime changed since the last open.
    /// Pseudo directories (/proc pids come and go without an mtime change) are always asked.
    private static func cacheListing(_ fs: FS, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>) {
        guard !fs.nodes.isPseudo(UInt64(ino)) else { return }
        fi.pointee.cache_readdir = 1
        fi.pointee.keep_cache = fs.nodes.openedKeepsCache(UInt64(ino)) ? 1 : 0
    }

    static func readdir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                        _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        fill(req, ino, size, off, fi, plus: false)
    }

    static func readdirplus(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                            _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        fill(req, ino, size, off, fi, plus: true)
    }

    private static func fill(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                             _ fi: UnsafeMutablePointer<fuse_file_info>?, plus: Bool) {
        let fs = FS.shared!
        handle(req) {
            guard let d = OpenFile.from(fi!) as? OpenDir else { throw FSError(EBADF) }
            let buf = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buf.deallocate() }
            d.lock.lock()
            defer { d.lock.unlock() }
            var used = 0
            var pos = UInt64(bitPattern: Int64(off))
            while let e = try d.entry(after: pos, plus: plus, fs.session) {
                let n = add(fs, req, ino, e, plus, buf + used, size - used)
                if n == 0 { break }
                used += n
                pos = e.cookie
                d.advance()
            }
            fuse_reply_buf(req, buf, used)
        }
    }

    /// Adds one entry; returns the bytes used, or 0 if it did not fit.
    private static func add(_ fs: FS, _ req: fuse_req_t?, _ dir: fuse_ino_t, _ e: DirEntry, _ plus: Bool,
                            _ buf: UnsafeMutablePointer<CChar>, _ room: Int) -> Int {
        var name = e.name
        name.append(0)
        let off = off_t(bitPattern: UInt(e.cookie))
        return name.withUnsafeBufferPointer { nb in
            nb.baseAddress!.withMemoryRebound(to: CChar.self, capacity: nb.count) { cname in
                if !plus {
                    var st = stat()
                    st.st_ino = UInt(fs.inos.map(dev: fs.session.root.dev, ino: e.ino))
                    st.st_mode = UInt32(e.type) << 12
                    let n = fuse_add_direntry(req, buf, room, cname, &st, off)
                    return n > room ? 0 : n
                }
                var ep = plusEntry(fs, dir, e)
                let n = fuse_add_direntry_plus(req, buf, room, cname, &ep, off)
                if n > room {   // not sent: take back the lookup counted for it
                    if ep.ino != 0 { fs.nodes.forget(UInt64(ep.ino), 1) }
                    return 0
                }
                return n
            }
        }
    }

    /// The entry for readdirplus. No nodeid (ino 0: the kernel only lists it) for ".",
    /// "..", vanished entries and proc mode's synthetic links. Otherwise one lookup is
    /// counted, as the kernel counts one for every entry with a nodeid it receives.
    private static func plusEntry(_ fs: FS, _ dir: fuse_ino_t, _ e: DirEntry) -> fuse_entry_param {
        let dotOrDotDot = e.name == [46] || e.name == [46, 46]
        guard let a = e.attr, !dotOrDotDot, fs.proc?.syntheticId(dir, e.name) == nil else {
            var ep = fuse_entry_param()
            ep.attr.st_ino = UInt(fs.inos.map(dev: fs.session.root.dev, ino: e.ino))
            ep.attr.st_mode = UInt32(e.type) << 12
            return ep
        }
        return fs.entry(fs.nodes.found(parent: UInt64(dir), name: e.name, attr: a), a)
    }

    /// Fire-and-forget, like release.
    static func releasedir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        guard let d = OpenFile.detach(fi!) else { replyErr(req, EBADF); return }
        FS.shared.session.releasedir(d.remote)
        replyErr(req, 0)
    }
}
