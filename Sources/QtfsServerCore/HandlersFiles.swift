// OPEN, CREATE, OPENDIR and the handle operations that may block (FSYNC, LSEEK,
// FALLOCATE). READ and WRITE are io_uring ops submitted by the event loop (Engine).
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

extension Backend {
    /// Flags a client may not pass through: creation is CREATE's business, O_DIRECT
    /// would need aligned buffers, and a controlling tty makes no sense here.
    private static let stripped = O_CREAT | O_EXCL | O_NOCTTY | O_DIRECT

    /// `.mustNotWait`: the open is made with O_NONBLOCK (a fifo swapped in cannot make it
    /// wait) and anything but a regular file, a directory or a fifo is closed again
    /// (`WouldWait`). A fifo without its other end throws `FifoMustWait`.
    func open(_ r: OpenRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> OpenReply {
        try open(r, handles, waiting, pseudoWaits: false).reply
    }

    /// `pseudoWaits`: under `.mustNotWait`, a name in a pseudo file system's directory throws
    /// `WouldWait` before anything is opened (OPEN_READ would read the pseudo file, which can
    /// wait), unless it is one that never waits (PseudoReads): `readsAtOnce` then says so.
    func open(_ r: OpenRequest, _ handles: HandleTable, _ waiting: Waiting,
              pseudoWaits: Bool) throws -> (reply: OpenReply, readsAtOnce: Bool) {
        let flags = (Int32(bitPattern: r.flags) & ~Backend.stripped) | O_NOFOLLOW | O_CLOEXEC
        return try at(r.caller, r.target, write: Backend.writes(flags), gate: Backend.openGate(flags)) { e, t in
            var readsAtOnce = false
            if waiting == .mustNotWait && pseudoWaits {
                let magic = pseudo.magic(of: t.dir)
                if PseudoCache.kind(magic: magic) == .pseudo {
                    guard PseudoReads.neverWait(path: r.target.path, magic: magic) else { throw WouldWait() }
                    readsAtOnce = true
                }
            }
            // Allowed to wait, a fifo without a peer blocks here: it holds this one thread
            // until a peer comes (or forever).
            let (fd, st) = try openWithout(waiting, flags, fifo: e) { f in try t.withName { n in try sys("openat") { openat(t.dir, n, f) } } }
            return (try register(fd, e, handles, opener: r.caller, stat: st, withAttr: handles.opensWithAttr), readsAtOnce)
        }
    }

    /// Opens with `flags`, or when it must not wait with O_NONBLOCK added: then an error only
    /// that flag can cause (a fifo without a peer: ENXIO, EAGAIN) throws `WouldWait` too.
    /// `fifo`: the export, when a fifo may wait without a thread (OPEN; FifoOpen.swift):
    /// a fifo without its other end throws `FifoMustWait`. With the fd comes the fstat
    /// made to check it, when one was, so that `register` need not make it again.
    private func openWithout(_ waiting: Waiting, _ flags: Int32, fifo: Export? = nil,
                             _ openat: (Int32) throws -> Int32) throws -> (Int32, stat?) {
        guard waiting == .mustNotWait else { return (try openat(flags), nil) }
        let fd: Int32
        do {
            fd = try openat(flags | O_NONBLOCK)
        } catch let e as Errno where flags & O_NONBLOCK == 0 && (e.code == ENXIO || e.code == EAGAIN) {
            if let fifo, e.code == ENXIO { try FifoOpen.writerMustWait(flags, fifo) { try openat(FifoOpen.pathFlags) } }
            throw WouldWait()
        }
        return (fd, try keepOrClose(fd, requested: flags, fifo: fifo))
    }

    /// After a non-blocking open: a regular file or directory gets the flags the caller
    /// asked for back; a fifo is ready or waits (`fifo` given); anything else is closed
    /// (`WouldWait`). Returns the fstat it checked.
    private func keepOrClose(_ fd: Int32, requested: Int32, fifo: Export? = nil) throws -> stat {
        var st = stat()
        let type = fstat(fd, &st) == 0 ? Stat.type(st.st_mode) : 0
        if type == S_IFIFO, let fifo { try FifoOpen.readyOrWait(fd, requested, fifo); return st }
        guard type == S_IFREG || type == S_IFDIR else {
            close(fd)
            throw WouldWait()
        }
        if requested & O_NONBLOCK == 0 { _ = fcntl(fd, F_SETFL, requested & ~O_NONBLOCK) }
        return st
    }

    /// `.mustNotWait` as for `open`: an existing fifo or device under the name throws `WouldWait`.
    func create(_ r: CreateRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> CreateReply {
        let flags = (Int32(bitPattern: r.flags) & ~(O_NOCTTY | O_DIRECT)) | O_CREAT | O_NOFOLLOW | O_CLOEXEC
        let mode = r.mode & 0o7777 & ~r.umask
        return try at(r.caller, r.target, write: true, gate: [.create]) { e, t in
            // One openat: with O_EXCL the existence check and the creation are atomic.
            let (fd, checked) = try openWithout(waiting, flags) { f in try t.withName { n in try sys("openat") { openat(t.dir, n, f, mode) } } }
            // One fstat serves the answer's attributes and the handle table.
            let st: stat
            do { st = try checked ?? Stat.fd(fd) } catch { close(fd); throw error }
            let attr = Stat.attr(st, pseudo: pseudo.isPseudo(dev: UInt64(st.st_dev), fd: fd))
            let opened = try register(fd, e, handles, opener: r.caller, stat: st)
            return CreateReply(handle: opened.handle, flags: opened.flags, attr: attr)
        }
    }

    func opendir(_ r: PathRequest, _ handles: HandleTable) throws -> OpenReply {
        try at(r.caller, r.target, gate: [.readdir]) { e, t in
            let fd = try t.withName { n in try sys("openat") { openat(t.dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
            let attr: Attr?
            do { attr = handles.opensWithAttr ? try pseudo.attr(fd: fd) : nil } catch { close(fd); throw error }
            let h = OpenHandle(fd: fd, isDirectory: true, nonSeekable: false, export: e)
            return OpenReply(handle: try handles.add(h), attr: attr)
        }
    }

    /// Wraps a fresh fd into a handle (owning it from here on) and works out the open flags.
    /// `opener`: who opened it, when writes through it may have to clear setid bits.
    /// `stat`: the fd's fstat, when the caller has just made it. `withAttr`: the answer
    /// carries the file's attributes (from that same fstat).
    func register(_ fd: Int32, _ e: Export, _ handles: HandleTable, opener: Caller? = nil,
                  stat known: stat? = nil, withAttr: Bool = false) throws -> OpenReply {
        var st = known ?? stat()
        guard known != nil || fstat(fd, &st) == 0 else { let err = errno; close(fd); throw Errno(err) }
        let type = Stat.type(st.st_mode)
        let streaming = type == S_IFIFO || type == S_IFSOCK || type == S_IFCHR
        let h = OpenHandle(fd: fd, isDirectory: type == S_IFDIR, nonSeekable: streaming, export: e)
        if let opener, type == S_IFREG, st.st_mode & (Backend.setUid | Backend.setGid) != 0,
           !Credentials.hasFsetid(opener, squash: e.rootSquash) {
            h.setIdWriter = Credentials.acting(opener, squash: e.rootSquash)
        }
        h.isFifo = type == S_IFIFO && fcntl(fd, F_GETFL) & O_NONBLOCK != 0
        var flags: UInt32 = 0
        if streaming { flags |= OpenReply.nonSeekable | OpenReply.directIO }
        let kind = pseudo.kind(dev: UInt64(st.st_dev), fd: fd)
        h.memoryBacked = kind == .memory && type == S_IFREG
        if type == S_IFBLK || kind == .pseudo { flags |= OpenReply.directIO }
        let id = try handles.add(h)
        return OpenReply(handle: id, flags: flags, attr: withAttr ? Stat.attr(st, pseudo: kind == .pseudo) : nil)
    }

    /// Whitelist kinds an OPEN needs: Open, plus Read and/or Write by its access mode.
    static func openGate(_ flags: Int32) -> [Whitelist.Kind] {
        let mode = flags & O_ACCMODE
        return [.open] + (mode != O_WRONLY ? [.read] : []) + (writes(flags) ? [.write] : [])
    }

    static func writes(_ flags: Int32) -> Bool {
        flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0
    }

    func fsync(_ r: FsyncRequest, _ handles: HandleTable) throws -> EmptyReply {
        let h = try serverHandle(r.handle, handles)
        try sys("fsync") { r.dataOnly ? fdatasync(h.fd) : Glibc.fsync(h.fd) }
        return EmptyReply()
    }

    func lseek(_ r: LseekRequest, _ handles: HandleTable) throws -> LseekReply {
        let h = try serverHandle(r.handle, handles)
        let off = try sys("lseek") { Glibc.lseek(h.fd, off_t(r.offset), Int32(r.whence)) }
        return LseekReply(offset: UInt64(off))
    }

    func fallocate(_ r: FallocateRequest, _ handles: HandleTable) throws -> EmptyReply {
        let h = try serverHandle(r.handle, handles)
        if h.export.readOnly { throw Errno(EROFS) }
        guard r.offset <= UInt64(Int64.max), r.length <= UInt64(Int64.max) else { throw Errno(EINVAL) }
        try sys("fallocate") { qtfs_fallocate(h.fd, Int32(bitPattern: r.mode), Int64(r.offset), Int64(r.length)) }
        return EmptyReply()
    }

    /// After a write through `h`: writes are made with the server's credentials, which keep
    /// setid bits (CAP_FSETID), so for an opener without that capability this clears them
    /// as the host kernel does on such a user's write(2): setuid always, setgid when the
    /// file is group-executable or the writer is not in its group. (The FUSE client leaves
    /// this to the server, FUSE_CAP_HANDLE_KILLPRIV: the kernel's own way is a chmod as the
    /// writer, which a user who does not own the file may not do.) Only handles whose file
    /// had setid bits at open pay the fstat.
    static func dropSetIdAfterWrite(_ h: OpenHandle) {
        guard let writer = h.setIdWriter else { return }
        var st = stat()
        guard fstat(h.fd, &st) == 0 else { return }
        var drop = st.st_mode & setUid
        let inGroup = writer.gid == st.st_gid || writer.groups.contains(st.st_gid)
        if st.st_mode & setGid != 0 && (st.st_mode & groupExec != 0 || !inGroup) { drop |= setGid }
        guard drop != 0, (try? Credentials.asServer()) != nil else { return }
        _ = fchmod(h.fd, st.st_mode & 0o7777 & ~drop)
    }

    /// The handle `id`, acted on with the server's own credentials (a handle was checked
    /// when it was opened; a worker keeps the identity of its last request: Credentials).
    func serverHandle(_ id: UInt64, _ handles: HandleTable) throws -> OpenHandle {
        try Credentials.asServer()
        guard let h = handles.get(id) else { throw Errno(EBADF) }
        return h
    }
}
