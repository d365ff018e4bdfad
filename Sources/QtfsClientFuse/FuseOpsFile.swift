// open, create, read, write, flush, fsync, release, lseek, fallocate.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum FileOps {
    static func open(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!, fi = fi!
        if FifoOps.isFifo(fs, ino) { return FifoOps.open(req, ino, fi) }
        handle(req) {
            let keep = fs.nodes.openedKeepsCache(UInt64(ino)), pseudo = fs.nodes.isPseudo(UInt64(ino))
            let flags = openFlags(fs, fi.pointee.flags)
            // Read-only and not served from the page cache: ask for the content with the open.
            let wantContent = Int32(bitPattern: flags) & (O_ACCMODE | O_TRUNC) == O_RDONLY && (pseudo || !keep)
            let (h, openFlags, content) = try openMaybeReading(fs, caller(req), try fs.path(ino), flags, wantContent)
            if fi.pointee.flags & O_TRUNC != 0 { fs.childChanged(ino) }
            setOpenFlags(fs, fi, openFlags, keep: keep, pseudo: pseudo)
            let direct = fi.pointee.direct_io != 0
            OpenFile(h, ino: ino, fs, content: content.map { OpenContent($0, sequential: direct) }).attach(fi)
            if fuse_reply_open(req, fi) != 0 { closeAfterInterrupt(fs, fi) }
        }
    }

    private static func openMaybeReading(_ fs: FS, _ c: Caller, _ path: [UInt8], _ flags: UInt32,
                                         _ wantContent: Bool) throws -> (OpenHandle, UInt32, [UInt8]?) {
        if wantContent { return try fs.session.openRead(c, path, flags: flags, maxBytes: OpenContent.maxBytes) }
        let (h, f) = try fs.session.open(c, path, flags: flags)
        return (h, f, nil)
    }

    static func create(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                       _ mode: mode_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!, fi = fi!, n = bytes(name)
        handle(req) {
            let flags = openFlags(fs, fi.pointee.flags)
            let (h, r) = try fs.session.create(caller(req), try fs.path(parent, n), flags: flags, mode: mode, umask: umask(req))
            fs.dirChanged(parent, n, .found(r.attr))
            var e = fs.entry(fs.nodes.found(parent: UInt64(parent), name: n, attr: r.attr), r.attr)
            _ = fs.nodes.openedKeepsCache(UInt64(e.ino))
            if !r.attr.isPseudo { fs.noCaps?.noteAbsent(UInt64(e.ino)) }   // a new file has none
            setOpenFlags(fs, fi, r.flags, keep: false, pseudo: r.attr.isPseudo)
            OpenFile(h, ino: fuse_ino_t(e.ino), fs).attach(fi)
            if fuse_reply_create(req, &e, fi) != 0 {
                fs.nodes.forget(UInt64(e.ino), 1)
                closeAfterInterrupt(fs, fi)
            }
        }
    }

    /// With writeback caching the kernel reads pages of write-only files and does O_APPEND
    /// itself, so the host file must be readable and not in append mode.
    static func openFlags(_ fs: FS, _ flags: Int32) -> UInt32 {
        var f = flags
        if fs.writeback {
            if f & O_ACCMODE == O_WRONLY { f = (f & ~O_ACCMODE) | O_RDWR }
            f &= ~O_APPEND
        }
        return UInt32(bitPattern: f)
    }

    static func setOpenFlags(_ fs: FS, _ fi: UnsafeMutablePointer<fuse_file_info>, _ flags: UInt32, keep: Bool, pseudo: Bool) {
        let direct = pseudo || flags & OpenReply.directIO != 0
        fi.pointee.direct_io = direct ? 1 : 0
        fi.pointee.nonseekable = flags & OpenReply.nonSeekable != 0 ? 1 : 0
        fi.pointee.keep_cache = !direct && (keep || flags & OpenReply.keepCache != 0) ? 1 : 0
        // A read-only file's FLUSH has nothing to do (see `flush`): the kernel may skip it
        // on close, which saves a trip through the FUSE daemon per close(2).
        fi.pointee.noflush = fi.pointee.flags & O_ACCMODE == O_RDONLY ? 1 : 0
    }

    /// The open was interrupted and the kernel will never release this handle.
    static func closeAfterInterrupt(_ fs: FS, _ fi: UnsafeMutablePointer<fuse_file_info>) {
        if let f = OpenFile.detach(fi) { fs.session.release(f.remote) }
    }

    static func read(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                     _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            guard let f = OpenFile.from(fi!) else { throw FSError(EBADF) }
            if let fifo = f as? FifoFile { return FifoOps.read(req, fifo, size, fi!.pointee.flags) }
            if let chunk = f.content?.take(offset: Int(off), size: size) {
                chunk.withUnsafeBytes { _ = fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
                return
            }
            let want = UInt32(min(size, Wire.maxIOSize))
            let data = try fs.session.read(f.remote, offset: UInt64(off), size: want)
            data.withUnsafeBytes { _ = fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }

    static func write(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ buf: UnsafePointer<CChar>?, _ size: Int,
                      _ off: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            guard let f = OpenFile.from(fi!) else { throw FSError(EBADF) }
            if let fifo = f as? FifoFile {
                return FifoOps.write(req, fifo, Array(UnsafeRawBufferPointer(start: buf, count: size)), fi!.pointee.flags)
            }
            let data = UnsafeRawBufferPointer(start: buf, count: min(size, Wire.maxIOSize))
            if mayWriteBehind(fs, ino, fi!), try fs.session.writeBehind(f.remote, offset: UInt64(off), data: data) {
                written(fs, ino)
                fuse_reply_write(req, data.count)
                return
            }
            let n = try fs.session.write(f.remote, offset: UInt64(off), data: data)
            written(fs, ino)
            fuse_reply_write(req, Int(n))
        }
    }

    /// After a write: the snapshot entry is stale, and so is the kernel's cached mode of a
    /// setuid/setgid file, whose bits the host may just have cleared (HandlersFiles.swift).
    private static func written(_ fs: FS, _ ino: fuse_ino_t) {
        fs.childChanged(ino)
        if fs.nodes.hadSetId(UInt64(ino)), let se = fs.fuseSession { fuse_lowlevel_notify_inval_inode(se, ino, -1, 0) }
    }

    /// Writes may be answered early (WriteBehind.swift) unless the program asked for
    /// O_SYNC/O_DSYNC, the file is a pseudo file (a control file acts on the write), or the
    /// kernel already writes behind by itself (writeback caching).
    private static func mayWriteBehind(_ fs: FS, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>) -> Bool {
        !fs.writeback && fs.opts.writeBehind && fi.pointee.flags & (O_SYNC | O_DSYNC) == 0
            && !fs.nodes.isPseudo(UInt64(ino))
    }

    /// FLUSH waits for writes still in flight and reports their error; the server would
    /// only check the handle, so it costs no round trip (docs/client.md).
    static func flush(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            if let f = OpenFile.from(fi!), !(f is FifoFile) { try fs.session.flush(f.remote) }
            replyErr(req, 0)
        }
    }

    static func fsync(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ datasync: Int32, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            guard let f = OpenFile.from(fi!) else { throw FSError(EBADF) }
            try fs.session.fsync(f.remote, dataOnly: datasync != 0)
            replyErr(req, 0)
        }
    }

    /// Fire-and-forget: the kernel has its answer without waiting for the server's.
    static func release(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        guard let f = OpenFile.detach(fi!) else { replyErr(req, EBADF); return }
        if let fifo = f as? FifoFile { FifoOps.release(fifo) } else { FS.shared.session.release(f.remote) }
        replyErr(req, 0)
    }

    static func lseek(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ off: off_t, _ whence: Int32,
                      _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            guard let f = OpenFile.from(fi!) else { throw FSError(EBADF) }
            let r = try fs.session.lseek(f.remote, offset: Int64(off), whence: UInt32(bitPattern: whence))
            fuse_reply_lseek(req, off_t(bitPattern: UInt(r)))
        }
    }

    static func fallocate(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ mode: Int32, _ off: off_t, _ len: off_t,
                          _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            guard let f = OpenFile.from(fi!) else { throw FSError(EBADF) }
            try fs.session.fallocate(f.remote, mode: UInt32(bitPattern: mode), offset: UInt64(off), length: UInt64(len))
            fs.childChanged(ino)
            replyErr(req, 0)
        }
    }
}
