// GETXATTR, SETXATTR, LISTXATTR, REMOVEXATTR. Linux has no *xattrat calls before 6.13,
// so these act on an O_PATH fd of the target through /proc/self/fd/N (a magic link the
// server follows itself, after confined resolution). Symlinks carry no user xattrs:
// get answers ENODATA, list an empty list, set/remove EPERM.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

extension Backend {
    private func withXattrPath<T>(_ t: borrowing Resolved, ifSymlink: () throws -> T,
                                  _ body: (UnsafePointer<CChar>) throws -> T) throws -> T {
        let fd = try openPath(t)
        defer { close(fd) }
        if Stat.type(try Stat.fd(fd).st_mode) == S_IFLNK { return try ifSymlink() }
        return try "/proc/self/fd/\(fd)".withCString { try body($0) }
    }

    func getxattr(_ r: XattrGetRequest) throws -> XattrReply {
        try at(r.caller, r.target, gate: [.read]) { _, t in
            try withXattrPath(t, ifSymlink: { throw Errno(ENODATA) }) { path in
                try r.name.withCStr { name in
                    var buf = [UInt8](repeating: 0, count: Int(r.size))
                    let n = try sys("getxattr") { buf.withUnsafeMutableBytes { CQtfsSys.getxattr(path, name, $0.baseAddress, $0.count) } }
                    return XattrReply(size: UInt32(n), data: r.size == 0 ? [] : Array(buf[0..<n]))
                }
            }
        }
    }

    func listxattr(_ r: XattrGetRequest) throws -> XattrReply {
        try at(r.caller, r.target, gate: [.read]) { _, t in
            try withXattrPath(t, ifSymlink: { XattrReply(size: 0, data: []) }) { path in
                var buf = [UInt8](repeating: 0, count: Int(r.size))
                let n = try sys("listxattr") { buf.withUnsafeMutableBytes { CQtfsSys.listxattr(path, $0.baseAddress, $0.count) } }
                return XattrReply(size: UInt32(n), data: r.size == 0 ? [] : Array(buf[0..<n]))
            }
        }
    }

    func setxattr(_ r: SetxattrRequest) throws -> EmptyReply {
        try at(r.caller, r.target, write: true, gate: [.setxattr]) { _, t in
            try withXattrPath(t, ifSymlink: { throw Errno(EPERM) }) { path in
                try r.name.withCStr { name in
                    try sys("setxattr") { r.value.withUnsafeBytes { CQtfsSys.setxattr(path, name, $0.baseAddress, $0.count, Int32(r.flags)) } }
                }
                return EmptyReply()
            }
        }
    }

    func removexattr(_ r: RemovexattrRequest) throws -> EmptyReply {
        try at(r.caller, r.target, write: true, gate: [.setxattr]) { _, t in
            try withXattrPath(t, ifSymlink: { throw Errno(EPERM) }) { path in
                try r.name.withCStr { name in try sys("removexattr") { CQtfsSys.removexattr(path, name) } }
                return EmptyReply()
            }
        }
    }
}
