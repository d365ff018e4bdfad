// forget, getattr, setattr, readlink.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum EntryOps {
    static func forget(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ n: UInt64) {
        FS.shared.nodes.forget(UInt64(ino), n)
        fuse_reply_none(req)
    }

    static func forgetMulti(_ req: fuse_req_t?, _ count: Int, _ list: UnsafeMutablePointer<fuse_forget_data>?) {
        let nodes = FS.shared.nodes
        for i in 0..<count { nodes.forget(UInt64(list![i].ino), list![i].nlookup) }
        fuse_reply_none(req)
    }

    static func getattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        if let proc = fs.proc, proc.getattr(req, ino) { return }
        handle(req) {
            let a = try fs.session.getattr(caller(req), try fs.path(ino), handle: fi.flatMap { OpenFile.from($0)?.remote })
            fs.nodes.noteAttr(UInt64(ino), a)
            var st = fs.makeStat(a)
            fuse_reply_attr(req, &st, fs.attrTimeout(a))
        }
    }

    static func setattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ attr: UnsafeMutablePointer<stat>?,
                        _ toSet: Int32, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        let fs = FS.shared!
        handle(req) {
            let remote = fi.flatMap { OpenFile.from($0)?.remote }
            var r = SetattrRequest(caller: caller(req), target: fs.session.target(try fs.path(ino)),
                                   valid: [])
            fill(&r, attr!.pointee, toSet)
            let a = try fs.session.setattr(r, handle: remote)
            fs.childChanged(ino)
            fs.nodes.noteAttr(UInt64(ino), a)
            var st = fs.makeStat(a)
            fuse_reply_attr(req, &st, fs.attrTimeout(a))
        }
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
    static func readlink(_ req: fuse_req_t?, _ ino: fuse_ino_t) {
        let fs = FS.shared!
        if let proc = fs.proc, proc.readlink(req, ino) { return }
        handle(req) {
            var t = try fs.session.readlink(caller(req), try fs.path(ino))
            t.append(0)
            t.withUnsafeBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { _ = fuse_reply_readlink(req, $0) }
            }
        }
    }
}
