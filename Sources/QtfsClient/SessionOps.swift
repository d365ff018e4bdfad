// Typed protocol operations on a Session. Each encodes one request, blocks for its reply
// and decodes it; errors come back as FSError carrying the server's errno.
import QtfsProtocol

extension Session {
    @inline(__always)
    func send<P: WirePayload>(_ op: Opcode, _ req: P, on c: Connection) -> Reply {
        c.call(op) { req.encode(into: &$0) }
    }
    func onPath<P: WirePayload>(_ op: Opcode, _ req: P) -> Reply { send(op, req, on: pathConn()) }
    func onHandle<P: WirePayload>(_ op: Opcode, _ h: RemoteHandle, _ req: P) -> Reply {
        send(op, req, on: conns[h.conn])
    }

    public func lookup(_ c: Caller, _ path: [UInt8]) throws -> Attr {
        try onPath(.lookup, PathRequest(caller: c, target: target(path))).decode(AttrReply.self).attr
    }

    public func getattr(_ c: Caller, _ path: [UInt8], handle: RemoteHandle? = nil) throws -> Attr {
        let req = GetattrRequest(caller: c, target: target(path), handle: handle?.id ?? 0)
        let r = handle.map { onHandle(.getattr, $0, req) } ?? onPath(.getattr, req)
        return try r.decode(AttrReply.self).attr
    }

    /// `req.handle` must be set by the caller together with `handle` (its connection).
    public func setattr(_ req: SetattrRequest, handle: RemoteHandle?) throws -> Attr {
        let r = handle.map { onHandle(.setattr, $0, req) } ?? onPath(.setattr, req)
        return try r.decode(AttrReply.self).attr
    }

    public func readlink(_ c: Caller, _ path: [UInt8]) throws -> [UInt8] {
        try onPath(.readlink, PathRequest(caller: c, target: target(path))).decode(ReadlinkReply.self).target
    }

    public func mknod(_ c: Caller, _ path: [UInt8], mode: UInt32, rdev: UInt64, umask: UInt32) throws -> Attr {
        let req = MknodRequest(caller: c, target: target(path), mode: mode, rdev: rdev, umask: umask)
        return try onPath(.mknod, req).decode(AttrReply.self).attr
    }

    public func mkdir(_ c: Caller, _ path: [UInt8], mode: UInt32, umask: UInt32) throws -> Attr {
        let req = MkdirRequest(caller: c, target: target(path), mode: mode, umask: umask)
        return try onPath(.mkdir, req).decode(AttrReply.self).attr
    }

    public func unlink(_ c: Caller, _ path: [UInt8]) throws {
        try onPath(.unlink, PathRequest(caller: c, target: target(path))).check()
    }

    public func rmdir(_ c: Caller, _ path: [UInt8]) throws {
        try onPath(.rmdir, PathRequest(caller: c, target: target(path))).check()
    }

    public func symlink(_ c: Caller, _ path: [UInt8], contents: [UInt8]) throws -> Attr {
        var req = SymlinkRequest(caller: c, target: target(path), linkTarget: "")
        req.linkTarget = contents
        return try onPath(.symlink, req).decode(AttrReply.self).attr
    }

    public func rename(_ c: Caller, _ from: [UInt8], _ to: [UInt8], flags: UInt32) throws {
        let req = TwoPathRequest(caller: c, from: target(from), to: target(to), flags: flags)
        try onPath(.rename, req).check()
    }

    public func link(_ c: Caller, _ from: [UInt8], _ to: [UInt8]) throws -> Attr {
        let req = TwoPathRequest(caller: c, from: target(from), to: target(to))
        return try onPath(.link, req).decode(AttrReply.self).attr
    }

    public func statfs(_ c: Caller, _ path: [UInt8]) throws -> StatfsReply {
        try onPath(.statfs, PathRequest(caller: c, target: target(path))).decode(StatfsReply.self)
    }

    public func access(_ c: Caller, _ path: [UInt8], mask: UInt32) throws {
        try onPath(.access, AccessRequest(caller: c, target: target(path), mask: mask)).check()
    }
}
