// Typed protocol operations on a Session. Each encodes one request, blocks for its reply
// and decodes it; errors come back as Errno carrying the server's errno. Requests that
// change names are `.unsafe`: not repeated when their connection dies in flight.
import QtfsProtocol
import QtfsSystem

extension Session {
    public func lookup(_ c: Caller, _ path: [UInt8]) throws -> Attr {
        try onPath(.lookup, PathRequest(caller: c, target: target(path))).decode(AttrReply.self).attr
    }

    /// LOOKUP of `path`, with LOOKUPs of `ahead` sent just before it on the same connection
    /// and not waited for: their answers, read along with this one, go to `onAhead` (nil:
    /// that lookup failed) on the reading thread, with the connection's lock held (short,
    /// leaf locks only: Connection.postTracked).
    public func lookup(_ c: Caller, _ path: [UInt8], ahead: [[UInt8]],
                       onAhead: @escaping ([UInt8], Attr?) -> Void) throws -> Attr {
        let req = PathRequest(caller: c, target: target(path))
        let r = run(.safe) { () throws(Abort) -> Reply in
            let conn = try ready(pathConn(), for: .safe)
            for p in ahead {
                let other = PathRequest(caller: c, target: target(p))
                _ = conn.postTracked(.lookup, tail: nil, { other.encode(into: &$0) }) { answer in
                    onAhead(p, answer.status == 0 ? try? answer.decode(AttrReply.self).attr : nil)
                }
            }
            return conn.call(.lookup, req)
        }
        return try r.decode(AttrReply.self).attr
    }

    public func getattr(_ c: Caller, _ path: [UInt8], handle: OpenHandle? = nil) throws -> Attr {
        let req = GetattrRequest(caller: c, target: target(path))
        let r = handle.map { h in onHandle(.getattr, h) { var q = req; q.handle = $0; q.encode(into: &$1) } }
            ?? onPath(.getattr, req)
        return try r.decode(AttrReply.self).attr
    }

    /// With `handle`, `req.handle` is filled in with its current server handle.
    public func setattr(_ req: SetattrRequest, handle: OpenHandle?) throws -> Attr {
        let r = handle.map { h in onHandle(.setattr, h) { var q = req; q.handle = $0; q.encode(into: &$1) } }
            ?? onPath(.setattr, req)
        return try r.decode(AttrReply.self).attr
    }

    public func readlink(_ c: Caller, _ path: [UInt8]) throws -> [UInt8] {
        try onPath(.readlink, PathRequest(caller: c, target: target(path))).decode(ReadlinkReply.self).target
    }

    public func mknod(_ c: Caller, _ path: [UInt8], mode: UInt32, rdev: UInt64, umask: UInt32) throws -> Attr {
        let req = MknodRequest(caller: c, target: target(path), mode: mode, rdev: rdev, umask: umask)
        return try onPath(.mknod, req, .unsafe).decode(AttrReply.self).attr
    }

    public func mkdir(_ c: Caller, _ path: [UInt8], mode: UInt32, umask: UInt32) throws -> Attr {
        let req = MkdirRequest(caller: c, target: target(path), mode: mode, umask: umask)
        return try onPath(.mkdir, req, .unsafe).decode(AttrReply.self).attr
    }

    public func unlink(_ c: Caller, _ path: [UInt8]) throws {
        try onPath(.unlink, PathRequest(caller: c, target: target(path)), .unsafe).check()
    }

    public func rmdir(_ c: Caller, _ path: [UInt8]) throws {
        try onPath(.rmdir, PathRequest(caller: c, target: target(path)), .unsafe).check()
    }

    public func symlink(_ c: Caller, _ path: [UInt8], contents: [UInt8]) throws -> Attr {
        var req = SymlinkRequest(caller: c, target: target(path), linkTarget: "")
        req.linkTarget = contents
        return try onPath(.symlink, req, .unsafe).decode(AttrReply.self).attr
    }

    public func rename(_ c: Caller, _ from: [UInt8], _ to: [UInt8], flags: UInt32) throws {
        let req = TwoPathRequest(caller: c, from: target(from), to: target(to), flags: flags)
        try onPath(.rename, req, .unsafe).check()
    }

    public func link(_ c: Caller, _ from: [UInt8], _ to: [UInt8]) throws -> Attr {
        let req = TwoPathRequest(caller: c, from: target(from), to: target(to))
        return try onPath(.link, req, .unsafe).decode(AttrReply.self).attr
    }

    public func statfs(_ c: Caller, _ path: [UInt8]) throws -> StatfsReply {
        try onPath(.statfs, PathRequest(caller: c, target: target(path))).decode(StatfsReply.self)
    }

    public func access(_ c: Caller, _ path: [UInt8], mask: UInt32) throws {
        try onPath(.access, AccessRequest(caller: c, target: target(path), mask: mask)).check()
    }
}
