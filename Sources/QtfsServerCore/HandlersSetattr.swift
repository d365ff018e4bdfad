// SETATTR: chown, chmod, truncate, utimensat, in that order (docs/protocol.md). With a
// handle every change is made on the open fd, so an unlinked or no-longer-writable
// file that the client holds open can still be changed, as locally.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

extension Backend {
    static let utimeNow = (1 << 30) - 1    // UTIME_NOW, a macro Swift cannot import
    static let utimeOmit = (1 << 30) - 2   // UTIME_OMIT
    static let setUid: UInt32 = 0o4000, setGid: UInt32 = 0o2000, groupExec: UInt32 = 0o010

    /// `.mustNotWait`: made on the loop only on tmpfs or a local disk and when a size
    /// change frees little (`isCheapSetattr`); else `WouldWait`.
    func setattr(_ r: SetattrRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> AttrReply {
        let handle: OpenHandle?
        if r.handle != 0 {
            guard let h = handles.get(r.handle) else { throw Errno(EBADF) }
            handle = h
        } else {
            handle = nil
        }
        return try at(r.caller, r.target, write: true, gate: [.setattr]) { _, t in
            let fd = try handle.map { h in try sys("dup") { dup(h.fd) } } ?? openPath(t)
            defer { close(fd) }
            if waiting == .mustNotWait && !isCheapSetattr(r, fd: fd) { throw WouldWait() }
            try apply(r, fd: fd, viaHandle: handle != nil, t)
            return AttrReply(attr: try pseudo.attr(fd: fd))
        }
    }

    /// chown, chmod and times take microseconds on tmpfs or a local disk; a truncate does
    /// when it frees at most `cheapUnlinkBytes` of a regular file.
    private func isCheapSetattr(_ r: SetattrRequest, fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0,
              Self.neverWaitsForAnotherMachine(pseudo.kind(dev: UInt64(st.st_dev), fd: fd)) else { return false }
        guard r.valid.contains(.size) else { return true }
        return Stat.type(st.st_mode) == S_IFREG && (st.st_size <= Backend.cheapUnlinkBytes || r.size >= UInt64(st.st_size))
    }

    /// `fd` is the handle's fd (viaHandle) or an O_PATH fd on the target.
    private func apply(_ r: SetattrRequest, fd: Int32, viaHandle: Bool, _ t: borrowing Resolved) throws {
        let v = r.valid
        if v.contains(.uid) || v.contains(.gid) {
            let uid = v.contains(.uid) ? r.uid : UInt32.max, gid = v.contains(.gid) ? r.gid : UInt32.max
            try sys("fchownat") { fchownat(fd, "", uid, gid, AT_EMPTY_PATH) }
        }
        var clearSetId = false
        if v.contains(.mode) {
            do {
                try chmod(r.mode & 0o7777, fd: fd, viaHandle: viaHandle)
            } catch let e as Errno where e.code == EPERM && Self.onlyClearsSetId(r.mode & 0o7777, fd: fd) {
                clearSetId = true
            }
        }
        if v.contains(.size) {
            guard r.size <= UInt64(Int64.max) else { throw Errno(EINVAL) }
            try truncate(r.size, fd: fd, viaHandle: viaHandle, t)
        }
        if let times = times(r) {
            try sys("utimensat") { times.withUnsafeBufferPointer { utimensat(fd, "", $0.baseAddress, AT_EMPTY_PATH) } }
        }
        if clearSetId {   // last: it leaves this thread with the server's credentials
            try Credentials.asServer()
            try chmod(r.mode & 0o7777, fd: fd, viaHandle: viaHandle)
        }
    }

    private func chmod(_ mode: UInt32, fd: Int32, viaHandle: Bool) throws {
        try sys("fchmod") { viaHandle ? fchmod(fd, mode) : qtfs_fchmod_opath(fd, mode) }
    }

    /// Before a write or truncate by a user without CAP_FSETID, the FUSE kernel clears
    /// setuid/setgid with a chmod as that user (libfuse 3.14 does not pass
    /// FUSE_CAP_HANDLE_KILLPRIV on to the kernel, which would leave it to the server). A
    /// user who may write the file but does not own it gets EPERM for that chmod from the
    /// host, and so EPERM from write(2), where the host kernel would just clear the bits.
    /// Such a chmod (it only removes setid bits, and the caller may write the file) is
    /// therefore made as the server: it removes nothing the caller's next write would not.
    /// Regular files only (writing a directory clears nothing). Called with the caller's
    /// credentials.
    static func onlyClearsSetId(_ mode: UInt32, fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0, Stat.type(st.st_mode) == S_IFREG else { return false }
        let now = st.st_mode & 0o7777, setId = setUid | setGid
        guard mode != now, mode & ~now == 0, (now & ~mode) & ~setId == 0 else { return false }
        return faccessat(fd, "", W_OK, AT_EMPTY_PATH | AT_EACCESS) == 0
    }

    private func truncate(_ size: UInt64, fd: Int32, viaHandle: Bool, _ t: borrowing Resolved) throws {
        if viaHandle {
            try sys("ftruncate") { ftruncate(fd, off_t(size)) }
            return
        }
        // O_NONBLOCK: a fifo must not block the worker; O_NOFOLLOW: never leave the export.
        let wfd = try t.withName { n in try sys("openat") { openat(t.dir, n, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) } }
        defer { close(wfd) }
        try sys("ftruncate") { ftruncate(wfd, off_t(size)) }
    }

    private func times(_ r: SetattrRequest) -> [timespec]? {
        let v = r.valid
        func one(_ set: SetattrRequest.Valid, _ now: SetattrRequest.Valid, _ t: Timespec) -> timespec {
            if v.contains(now) { return timespec(tv_sec: 0, tv_nsec: Backend.utimeNow) }
            if v.contains(set) { return timespec(tv_sec: Int(t.seconds), tv_nsec: Int(t.nanoseconds)) }
            return timespec(tv_sec: 0, tv_nsec: Backend.utimeOmit)
        }
        guard !v.intersection([.atime, .mtime, .atimeNow, .mtimeNow]).isEmpty else { return nil }
        return [one(.atime, .atimeNow, r.atime), one(.mtime, .mtimeNow, r.mtime)]
    }
}
