// open, create, read, write, flush, fsync, release, lseek, fallocate.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum FileOps {
    static func open(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs, fi = fi!
        if FifoOps.isFifo(fs, ino) { return FifoOps.open(r, ino, fi) }
        r.interruptible()
        let alone = fs.opens.begin(UInt64(ino))
        do {
            let keep = fs.nodes.openedKeepsCache(UInt64(ino)), pseudo = fs.nodes.isPseudo(UInt64(ino))
            let flags = openFlags(fs, fi.pointee.flags)
            // Read-only and not served from the page cache: ask for the content with the open.
            let readOnly = Int32(bitPattern: flags) & (O_ACCMODE | O_TRUNC) == O_RDONLY
            let wantContent = readOnly && (pseudo || !keep)
            let epoch = fs.lookupAttrs.epoch
            let (h, openFlags, content) = try openMaybeReading(fs, r.caller, try fs.path(ino), flags, wantContent)
            if readOnly {   // the fstat(2) most programs make next is answered with the open's attributes
                r.changedNothing = true
                keepAttrAtOpen(fs, ino, h, epoch: epoch, r.caller)
            }
            if fi.pointee.flags & O_TRUNC != 0 { fs.childChanged(ino) }
            setOpenFlags(fs, fi, openFlags, keep: keep, pseudo: pseudo)
            let direct = fi.pointee.direct_io != 0
            if !direct, let content, PageStore.store(fs, ino, content, wasAlone: alone) { fi.pointee.keep_cache = 1 }
            let file = OpenFile(h, ino: ino, fs, content: content.map { OpenContent($0, sequential: direct) })
            file.counted = UInt64(ino)
            file.attach(fi)
            if !r.open(fi) { closeAfterInterrupt(fs, fi) }
        } catch {
            fs.opens.end(UInt64(ino))
            r.fail(error)
        }
    }

    /// Keeps what the server said of the file it opened for the GETATTR of the fstat(2)
    /// that usually follows (cat, Go's os.ReadFile, glibc's opendir), as a LOOKUP's
    /// attributes are kept for stat(2): only where the kernel would ask (attribute timeout 0).
    static func keepAttrAtOpen(_ fs: FS, _ ino: fuse_ino_t, _ h: OpenHandle, epoch: UInt64, _ c: Caller) {
        guard let a = h.attrAtOpen, fs.attrTimeout(a) == 0 else { return }
        fs.lookupAttrs.keep(UInt64(ino), a, epoch: epoch, for: c)
    }

    private static func openMaybeReading(_ fs: FS, _ c: Caller, _ path: [UInt8], _ flags: UInt32,
                                         _ wantContent: Bool) throws -> (OpenHandle, UInt32, [UInt8]?) {
        if wantContent { return try fs.session.openRead(c, path, flags: flags, maxBytes: OpenContent.maxBytes) }
        let (h, f) = try fs.session.open(c, path, flags: flags)
        return (h, f, nil)
    }

    static func create(_ r: consuming FuseReply, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?,
                       _ mode: mode_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs, fi = fi!, n = bytes(name)
        r.interruptible()
        do {
            let flags = openFlags(fs, fi.pointee.flags)
            let (h, c) = try fs.session.create(r.caller, try fs.path(parent, n), flags: flags, mode: mode, umask: r.umask)
            fs.dirChanged(parent, n, .found(c.attr))
            let e = r.foundEntry(parent: parent, name: n, attr: c.attr)
            _ = fs.nodes.openedKeepsCache(UInt64(e.ino))
            let file = OpenFile(h, ino: fuse_ino_t(e.ino), fs)
            file.counted = UInt64(e.ino)
            file.created = !c.attr.isPseudo   // a new file has no capability
            _ = fs.opens.begin(UInt64(e.ino), created: file.created)
            if file.created { fs.absentXattrs?.noteAbsent(UInt64(e.ino), AbsentXattrs.capability) }
            setOpenFlags(fs, fi, c.flags, keep: false, pseudo: c.attr.isPseudo)
            file.attach(fi)
            if !r.create(e, fi) { closeAfterInterrupt(fs, fi) }   // its lookup count is given back
        } catch { r.fail(error) }
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
        if let f = OpenFile.detach(fi) { f.release(fs) }
    }

    static func read(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ size: Int, _ off: off_t,
                     _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.interruptible()
        do {
            let f = try OpenFile.required(fi)
            if let fifo = f as? FifoFile { return FifoOps.read(r, fifo, size, fi!.pointee.flags) }
            if let chunk = f.content?.take(offset: Int(off), size: size) { return r.bytes(chunk) }
            let want = UInt32(min(size, Wire.maxIOSize))
            let data = try fs.session.read(f.remote, offset: UInt64(off), size: want)
            r.bytes(data)
        } catch { r.fail(error) }
    }

    static func write(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ buf: UnsafePointer<CChar>?, _ size: Int,
                      _ off: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.interruptible()
        do {
            let f = try OpenFile.required(fi)
            if let fifo = f as? FifoFile {
                return FifoOps.write(r, fifo, Array(UnsafeRawBufferPointer(start: buf, count: size)), fi!.pointee.flags)
            }
            let data = UnsafeRawBufferPointer(start: buf, count: min(size, Wire.maxIOSize))
            if mayWriteBehind(fs, ino, fi!), try fs.session.writeBehind(f.remote, offset: UInt64(off), data: data) {
                written(fs, ino)
                return r.write(data.count)
            }
            let n = try fs.session.write(f.remote, offset: UInt64(off), data: data)
            written(fs, ino)
            r.write(Int(n))
        } catch { r.fail(error) }
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
    static func flush(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.ok { _ in
            if let f = OpenFile.from(fi!), !(f is FifoFile) { try fs.session.flush(f.remote) }
        }
    }

    static func fsync(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ datasync: Int32, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.ok { _ in try fs.session.fsync(try OpenFile.required(fi).remote, dataOnly: datasync != 0) }
    }

    /// Fire-and-forget: the kernel has its answer without waiting for the server's.
    static func release(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        guard let f = OpenFile.detach(fi!) else { return r.error(EBADF) }
        if let fifo = f as? FifoFile { FifoOps.release(r.fs, fifo) } else { f.release(r.fs) }
        r.ok()
    }

    static func lseek(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ off: off_t, _ whence: Int32,
                      _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.interruptible()
        do {
            let f = try OpenFile.required(fi)
            let to = try fs.session.lseek(f.remote, offset: Int64(off), whence: UInt32(bitPattern: whence))
            r.lseek(off_t(bitPattern: UInt(to)))
        } catch { r.fail(error) }
    }

    static func fallocate(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ mode: Int32, _ off: off_t, _ len: off_t,
                          _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.ok { _ in
            let f = try OpenFile.required(fi)
            try fs.session.fallocate(f.remote, mode: UInt32(bitPattern: mode), offset: UInt64(off), length: UInt64(len))
            fs.childChanged(ino)
        }
    }
}
