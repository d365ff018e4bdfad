// MOUNT, LOOKUP, GETATTR, SETATTR, READLINK, STATFS, ACCESS.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

extension Backend {
    func mount(_ r: MountRequest) throws -> MountReply {
        let (e, rel) = try HostPath.locate(exports, r.caller, r.path)
        let attr = try Credentials.asCaller(r.caller, squash: e.rootSquash) { () throws -> Attr in
            let fd = rel.isEmpty ? try sys("dup") { dup(e.fd) } : try PathCheck.openBeneath(e.fd, rel[...])
            defer { close(fd) }
            if let whitelist, !whitelist.allows(.mount, dir: fd, name: nil) { throw whitelist.denied(.mount, r.path) }
            try sys("faccessat") { faccessat(fd, ".", X_OK, AT_EACCESS) }
            return try pseudo.attr(fd: fd)
        }
        var reply = MountReply(export: e.id, base: "", root: attr)
        reply.base = rel
        return reply
    }

    func lookup(_ r: PathRequest) throws -> AttrReply {
        try at(r.caller, r.target) { _, t in AttrReply(attr: try attr(t)) }
    }

    func getattr(_ r: GetattrRequest, _ handles: HandleTable) throws -> AttrReply {
        if r.handle != 0 {
            guard let h = handles.get(r.handle) else { throw Errno(EBADF) }
            return AttrReply(attr: try pseudo.attr(fd: h.fd))
        }
        return try at(r.caller, r.target) { _, t in AttrReply(attr: try attr(t)) }
    }

    func readlink(_ r: PathRequest) throws -> ReadlinkReply {
        try at(r.caller, r.target) { _, t in
            ReadlinkReply(targetBytes: try t.withName { try Backend.readlink(t.dir, $0) })
        }
    }

    /// The contents of the symlink `name` in `dir`; ENAMETOOLONG beyond Wire.maxPath bytes.
    static func readlink(_ dir: Int32, _ name: UnsafePointer<CChar>) throws -> [UInt8] {
        var buf = [CChar](repeating: 0, count: Wire.maxPath + 1)
        let n = try sys("readlinkat") { buf.withUnsafeMutableBufferPointer { p in
            p.baseAddress.map { readlinkat(dir, name, $0, p.count) } ?? -1 } }
        guard n <= Wire.maxPath else { throw Errno(ENAMETOOLONG) }
        return buf[0..<n].map { UInt8(bitPattern: $0) }
    }

    func statfs(_ r: PathRequest) throws -> StatfsReply {
        try at(r.caller, r.target) { _, t in
            let fd = try openPath(t)
            defer { close(fd) }
            var s = CQtfsSys.statfs()
            try sys("fstatfs") { fstatfs(fd, &s) }
            return StatfsReply(blocks: UInt64(s.f_blocks), blocksFree: UInt64(s.f_bfree),
                               blocksAvailable: UInt64(s.f_bavail), files: UInt64(s.f_files),
                               filesFree: UInt64(s.f_ffree), blockSize: UInt32(truncatingIfNeeded: s.f_bsize),
                               fragmentSize: UInt32(truncatingIfNeeded: s.f_frsize),
                               nameMax: UInt32(truncatingIfNeeded: s.f_namelen),
                               fsType: UInt64(bitPattern: Int64(s.f_type)))
        }
    }

    func access(_ r: AccessRequest) throws -> EmptyReply {
        try at(r.caller, r.target) { e, t in
            if e.readOnly && r.mask & UInt32(W_OK) != 0 { throw Errno(EROFS) }
            try t.withName { n in try sys("faccessat") { faccessat(t.dir, n, Int32(r.mask), AT_EACCESS | AT_SYMLINK_NOFOLLOW) } }
            return EmptyReply()
        }
    }
}
