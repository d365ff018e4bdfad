// Operations that create or use server handles. A handle is only valid on the connection
// that opened it, so it travels as a RemoteHandle (connection index + server handle).
import QtfsProtocol

extension Session {
    public func open(_ c: Caller, _ path: [UInt8], flags: UInt32) throws -> (RemoteHandle, UInt32) {
        let i = pathConnIndex()
        let r = send(.open, OpenRequest(caller: c, target: target(path), flags: flags), on: conns[i])
        let o = try r.decode(OpenReply.self)
        return (RemoteHandle(conn: i, id: o.handle), o.flags)
    }

    /// OPEN, and the whole content when the file is small and opened read-only (nil: none
    /// came; read it with READ).
    public func openRead(_ c: Caller, _ path: [UInt8], flags: UInt32,
                         maxBytes: UInt32) throws -> (RemoteHandle, UInt32, [UInt8]?) {
        let i = pathConnIndex()
        let req = OpenReadRequest(OpenRequest(caller: c, target: target(path), flags: flags), maxBytes: maxBytes)
        let o = try send(.openRead, req, on: conns[i]).decode(OpenReadReply.self)
        let has = o.open.flags & OpenReadReply.hasContent != 0
        return (RemoteHandle(conn: i, id: o.open.handle), o.open.flags & ~OpenReadReply.hasContent, has ? o.content : nil)
    }

    public func create(_ c: Caller, _ path: [UInt8], flags: UInt32, mode: UInt32,
                       umask: UInt32) throws -> (RemoteHandle, CreateReply) {
        let i = pathConnIndex()
        let req = CreateRequest(caller: c, target: target(path), flags: flags, mode: mode, umask: umask)
        let o = try send(.create, req, on: conns[i]).decode(CreateReply.self)
        return (RemoteHandle(conn: i, id: o.handle), o)
    }

    public func opendir(_ c: Caller, _ path: [UInt8]) throws -> RemoteHandle {
        let i = pathConnIndex()
        let r = send(.opendir, PathRequest(caller: c, target: target(path)), on: conns[i])
        return RemoteHandle(conn: i, id: try r.decode(OpenReply.self).handle)
    }

    /// READ: the reply payload is the data itself (no copy beyond the socket read).
    public func read(_ h: RemoteHandle, offset: UInt64, size: UInt32) throws -> [UInt8] {
        let r = onHandle(.read, h, ReadRequest(handle: h.id, offset: offset, size: size))
        try r.check()
        return r.payload
    }

    public func write(_ h: RemoteHandle, offset: UInt64, data: UnsafeRawBufferPointer) throws -> UInt32 {
        let r = conns[h.conn].call(.write, tail: data) { w in
            w.u64(h.id); w.u64(offset)
        }
        return try r.decode(WriteReply.self).written
    }

    public func flush(_ h: RemoteHandle) throws { try onHandle(.flush, h, HandleRequest(handle: h.id)).check() }
    /// RELEASE and RELEASEDIR are sent without waiting: the kernel gets its answer at once,
    /// the server's answer is dropped (nothing could be done about a failure anyway).
    /// They go on the handle's connection, after its earlier requests.
    public func release(_ h: RemoteHandle) {
        conns[h.conn].post(.release) { HandleRequest(handle: h.id).encode(into: &$0) }
    }
    public func releasedir(_ h: RemoteHandle) {
        conns[h.conn].post(.releasedir) { HandleRequest(handle: h.id).encode(into: &$0) }
    }

    public func fsync(_ h: RemoteHandle, dataOnly: Bool) throws {
        try onHandle(.fsync, h, FsyncRequest(handle: h.id, dataOnly: dataOnly)).check()
    }

    public func readdir(_ h: RemoteHandle, cookie: UInt64, maxBytes: UInt32, plus: Bool) throws -> ReaddirReply {
        let req = ReaddirRequest(handle: h.id, cookie: cookie, maxBytes: maxBytes, plus: plus)
        return try onHandle(.readdir, h, req).decode(ReaddirReply.self)
    }

    public func lseek(_ h: RemoteHandle, offset: Int64, whence: UInt32) throws -> UInt64 {
        let req = LseekRequest(handle: h.id, offset: offset, whence: whence)
        return try onHandle(.lseek, h, req).decode(LseekReply.self).offset
    }

    public func fallocate(_ h: RemoteHandle, mode: UInt32, offset: UInt64, length: UInt64) throws {
        let req = FallocateRequest(handle: h.id, mode: mode, offset: offset, length: length)
        try onHandle(.fallocate, h, req).check()
    }
}
