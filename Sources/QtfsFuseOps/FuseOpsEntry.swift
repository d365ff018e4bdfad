// forget, getattr, setattr, readlink.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum EntryOps {
    static func forget(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ n: UInt64) {
        r.fs.nodes.forget(UInt64(ino), n)
        r.none()
    }

    static func forgetMulti(_ r: consuming FuseReply, _ count: Int, _ list: UnsafeMutablePointer<fuse_forget_data>?) {
        let nodes = r.fs.nodes
        for i in 0..<count { nodes.forget(UInt64(list![i].ino), list![i].nlookup) }
        r.none()
    }

    static func getattr(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        if let proc = fs.proc, proc.isSynthetic(ino) { return r.attr(proc.stat(UInt64(ino), pid: r.pid), timeout: 0) }
        if fi == nil, let a = fs.lookupAttrs.take(UInt64(ino), for: r.caller) {   // the same stat(2)'s LOOKUP
            return r.attr(fs.makeStat(a), timeout: fs.attrTimeout(a))
        }
        r.interruptible()
        do {
            let a = try fs.session.getattr(r.caller, try fs.path(ino), handle: fi.flatMap { OpenFile.from($0)?.remote })
            fs.nodes.noteAttr(UInt64(ino), a)
            r.attr(fs.makeStat(a), timeout: fs.attrTimeout(a))
        } catch { r.fail(error) }
    }

    static func setattr(_ r: consuming FuseReply, _ ino: fuse_ino_t, _ attr: UnsafeMutablePointer<stat>?,
                        _ toSet: Int32, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = r.fs
        r.interruptible()
        do {
            let remote = fi.flatMap { OpenFile.from($0)?.remote }
            var req = SetattrRequest(caller: r.caller, target: fs.session.target(try fs.path(ino)), valid: [])
            fill(&req, attr!.pointee, toSet)
            let a = try fs.session.setattr(req, handle: remote)
            fs.childChanged(ino)
            fs.nodes.noteAttr(UInt64(ino), a)
            r.attr(fs.makeStat(a), timeout: fs.attrTimeout(a))
        } catch { r.fail(error) }
    }

    /// FUSE_SET_ATTR_* bits to protocol bits. "now" wins over an explicit time.
    static func fill(_ r: inout SetattrRequest, _ st: stat, _ toSet: Int32) {
        func has(_ bit: Int32) -> Bool { toSet & bit != 0 }
        if has(FUSE_SET_ATTR_MODE) { r.valid.insert(.mode); r.mode = st.st_mode & 0o7777 }
        if has(FUSE_SET_ATTR_UID) { r.valid.insert(.uid); r.uid = st.st_uid }
        if has(FUSE_SET_ATTR_GID) { r.valid.insert(.gid); r.gid = st.st_gid }
        if has(FUSE_SET_ATTR_SIZE) { r.valid.insert(.size); r.size = UInt64(st.st_size) }
        if has(FUSE_SET_ATTR_ATIME_NOW) { r.valid.insert(.atimeNow) } else if has(FUSE_SET_ATTR_ATIME) {
            r.valid.insert(.atime); r.atime = Timespec(seconds: Int64(st.st_atim.tv_sec), nanoseconds: UInt32(st.st_atim.tv_nsec))
        }
        if has(FUSE_SET_ATTR_MTIME_NOW) { r.valid.insert(.mtimeNow) } else if has(FUSE_SET_ATTR_MTIME) {
            r.valid.insert(.mtime); r.mtime = Timespec(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: UInt32(st.st_mtim.tv_nsec))
        }
    }

    /// Link contents verbatim: absolute targets resolve against the DPU's root, as with NFS.
    static func readlink(_ r: consuming FuseReply, _ ino: fuse_ino_t) {
        let fs = r.fs
        if let proc = fs.proc, proc.isSynthetic(ino) { return r.readlink(Array(proc.target(UInt64(ino), pid: r.pid).utf8)) }
        r.interruptible()
        do {
            r.readlink(try fs.session.readlink(r.caller, try fs.path(ino)))
        } catch { r.fail(error) }
    }
}
