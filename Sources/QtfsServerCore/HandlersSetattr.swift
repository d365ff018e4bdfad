// SETATTR: chown, chmod, truncate, utimensat, in that order (docs/protocol.md). With a
// handle every change is made on the open fd, so an unlinked or no-longer-writable
// file that the client holds open can still be changed, as locally.
import Glibc
internal import CQtfsSys
import QtfsProtocol

extension Backend {
    static let utimeNow = (1 << 30) - 1    // UTIME_NOW, a macro Swift cannot import
    static let utimeOmit = (1 << 30) - 2   // UTIME_OMIT

    func setattr(_ r: SetattrRequest, _ handles: HandleTable) throws -> AttrReply {
        let handle: OpenHandle?
        if r.handle != 0 {
            guard let h = handles.get(r.handle) else { throw FsError(EBADF) }
            handle = h
        } else {
            handle = nil
        }
        return try at(r.caller, r.target, write: true, gate: [.setattr]) { _, t in
            let fd = try handle.map { h in try sys { dup(h.fd) } } ?? openPath(t)
            defer { close(fd) }
            try apply(r, fd: fd, viaHandle: handle != nil, t)
            return AttrReply(attr: try pseudo.attr(fd: fd))
        }
    }

    /// `fd` is the handle's fd (viaHandle) or an O_PATH fd on the target.
    private func apply(_ r: SetattrRequest, fd: Int32, viaHandle: Bool, _ t: borrowing Resolved) throws {
        let v = r.valid
        if v.contains(.uid) || v.contains(.gid) {
            let uid = v.contains(.uid) ? r.uid : UInt32.max, gid = v.contains(.gid) ? r.gid : UInt32.max
            try sys { fchownat(fd, "", uid, gid, AT_EMPTY_PATH) }
        }
        if v.contains(.mode) {
            try sys { viaHandle ? fchmod(fd, r.mode & 0o7777) : qtfs_fchmod_opath(fd, r.mode & 0o7777) }
        }
        if v.contains(.size) {
            guard r.size <= UInt64(Int64.max) else { throw FsError(EINVAL) }
            try truncate(r.size, fd: fd, viaHandle: viaHandle, t)
        }
        if let times = times(r) {
            try sys { times.withUnsafeBufferPointer { utimensat(fd, "", $0.baseAddress, AT_EMPTY_PATH) } }
        }
    }

    private func truncate(_ size: UInt64, fd: Int32, viaHandle: Bool, _ t: borrowing Resolved) throws {
        if viaHandle {
            try sys { ftruncate(fd, off_t(size)) }
            return
        }
        // O_NONBLOCK: a fifo must not block the worker; O_NOFOLLOW: never leave the export.
        let wfd = try t.withName { n in try sys { openat(t.dir, n, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) } }
        defer { close(wfd) }
        try sys { ftruncate(wfd, off_t(size)) }
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
