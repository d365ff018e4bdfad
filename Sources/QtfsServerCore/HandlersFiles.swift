// OPEN, CREATE, OPENDIR and the handle operations that may block (FSYNC, LSEEK,
// FALLOCATE). READ and WRITE are io_uring ops submitted by the event loop (Engine).
import Glibc
internal import CQtfsSys
import QtfsProtocol

extension Backend {
    /// Flags a client may not pass through: creation is CREATE's business, O_DIRECT
    /// would need aligned buffers, and a controlling tty makes no sense here.
    private static let stripped = O_CREAT | O_EXCL | O_NOCTTY | O_DIRECT

    func open(_ r: OpenRequest, _ handles: HandleTable) throws -> OpenReply {
        let flags = (Int32(bitPattern: r.flags) & ~Backend.stripped) | O_NOFOLLOW | O_CLOEXEC
        return try at(r.caller, r.target, write: Backend.writes(flags)) { e, t in
            // A fifo without a peer blocks here: it holds this one worker until a peer
            // comes (or forever). Not the loop, not other workers. Fifo events will fix it.
            let fd = try t.withName { n in try sys { openat(t.dir, n, flags) } }
            let (handle, openFlags) = try register(fd, e, handles)
            return OpenReply(handle: handle, flags: openFlags)
        }
    }

    func create(_ r: CreateRequest, _ handles: HandleTable) throws -> CreateReply {
        let flags = (Int32(bitPattern: r.flags) & ~(O_NOCTTY | O_DIRECT)) | O_CREAT | O_NOFOLLOW | O_CLOEXEC
        let mode = r.mode & 0o7777 & ~r.umask
        return try at(r.caller, r.target, write: true) { e, t in
            // One openat: with O_EXCL the existence check and the creation are atomic.
            let fd = try t.withName { n in try sys { openat(t.dir, n, flags, mode) } }
            let attr: Attr
            do { attr = try pseudo.attr(fd: fd) } catch { close(fd); throw error }
            let (handle, openFlags) = try register(fd, e, handles)
            return CreateReply(handle: handle, flags: openFlags, attr: attr)
        }
    }

    func opendir(_ r: PathRequest, _ handles: HandleTable) throws -> OpenReply {
        try at(r.caller, r.target) { e, t in
            let fd = try t.withName { n in try sys { openat(t.dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
            let h = OpenHandle(fd: fd, isDirectory: true, nonSeekable: false, export: e)
            guard let id = handles.add(h) else { throw FsError(EBADF) }
            return OpenReply(handle: id, flags: 0)
        }
    }

    /// Wraps a fresh fd into a handle (owning it from here on) and works out the open flags.
    private func register(_ fd: Int32, _ e: Export, _ handles: HandleTable) throws -> (UInt64, UInt32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { let err = errno; close(fd); throw FsError(err) }
        let type = Stat.type(st.st_mode)
        let streaming = type == S_IFIFO || type == S_IFSOCK || type == S_IFCHR
        let h = OpenHandle(fd: fd, isDirectory: type == S_IFDIR, nonSeekable: streaming, export: e)
        var flags: UInt32 = 0
        if streaming { flags |= OpenReply.nonSeekable | OpenReply.directIO }
        if type == S_IFBLK || pseudo.isPseudo(dev: UInt64(st.st_dev), fd: fd) { flags |= OpenReply.directIO }
        guard let id = handles.add(h) else { throw FsError(EBADF) }
        return (id, flags)
    }

    static func writes(_ flags: Int32) -> Bool {
        flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0
    }

    func fsync(_ r: FsyncRequest, _ handles: HandleTable) throws -> EmptyReply {
        let h = try handle(r.handle, handles)
        try sys { r.dataOnly ? fdatasync(h.fd) : Glibc.fsync(h.fd) }
        return EmptyReply()
    }

    func lseek(_ r: LseekRequest, _ handles: HandleTable) throws -> LseekReply {
        let h = try handle(r.handle, handles)
        let off = try sys { Glibc.lseek(h.fd, off_t(r.offset), Int32(r.whence)) }
        return LseekReply(offset: UInt64(off))
    }

    func fallocate(_ r: FallocateRequest, _ handles: HandleTable) throws -> EmptyReply {
        let h = try handle(r.handle, handles)
        if h.export.readOnly { throw FsError(EROFS) }
        guard r.offset <= UInt64(Int64.max), r.length <= UInt64(Int64.max) else { throw FsError(EINVAL) }
        try sys { CQtfsSys.fallocate(h.fd, Int32(bitPattern: r.mode), off_t(r.offset), off_t(r.length)) }
        return EmptyReply()
    }

    func handle(_ id: UInt64, _ handles: HandleTable) throws -> OpenHandle {
        guard let h = handles.get(id) else { throw FsError(EBADF) }
        return h
    }
}
