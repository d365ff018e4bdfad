// Operations that create or use server handles. A handle is only valid on the connection
// that opened it; OpenHandle re-opens it on another one after a reconnect.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol
import QtfsSystem

extension Session {
    /// One request on an open handle; `build` makes it for the handle's current id.
    func onHandle(_ op: Opcode, _ h: OpenHandle, _ replay: Replay = .safe, tail: UnsafeRawBufferPointer? = nil,
                  _ build: (UInt64, inout WireWriter) -> Void) -> Reply {
        run(replay) { () throws(Abort) -> Reply in
            let (c, id) = try h.current(self)
            return try ready(c, for: replay).call(op, tail: tail) { build(id, &$0) }
        }
    }

    /// OPEN and CREATE go where the round-robin says and stay there (handles are per connection).
    private func opening<R: WirePayload>(_ op: Opcode, _ replay: Replay, _ body: (inout WireWriter) -> Void)
        throws -> (Connection, R) {
        var used: Connection?
        let r = run(replay) { () throws(Abort) -> Reply in
            let c = try ready(pathConn(), for: replay)
            used = c
            return c.call(op, body)
        }
        return (used!, try r.decode(R.self))
    }

    public func open(_ c: Caller, _ path: [UInt8], flags: UInt32) throws -> (OpenHandle, UInt32) {
        let req = OpenRequest(caller: c, target: target(path), flags: flags)
        let (conn, o): (Connection, OpenReply) = try opening(.open, .safe) { req.encode(into: &$0) }
        return (OpenHandle(conn, o, flags: flags, isDir: false, opener: c), o.flags & ~OpenReply.hasAttr)
    }

    /// OPEN, and the whole content when the file is small and opened read-only (nil: none
    /// came; read it with READ).
    public func openRead(_ c: Caller, _ path: [UInt8], flags: UInt32,
                         maxBytes: UInt32) throws -> (OpenHandle, UInt32, [UInt8]?) {
        let req = OpenReadRequest(OpenRequest(caller: c, target: target(path), flags: flags), maxBytes: maxBytes)
        let (conn, o): (Connection, OpenReadReply) = try opening(.openRead, .safe) { req.encode(into: &$0) }
        let has = o.open.flags & OpenReadReply.hasContent != 0
        let h = OpenHandle(conn, o.open, flags: flags, isDir: false, opener: c)
        return (h, o.open.flags & ~(OpenReadReply.hasContent | OpenReply.hasAttr), has ? o.content : nil)
    }

    /// CREATE with O_EXCL is not repeated after a lost connection (the first may have created it).
    public func create(_ c: Caller, _ path: [UInt8], flags: UInt32, mode: UInt32,
                       umask: UInt32) throws -> (OpenHandle, CreateReply) {
        let req = CreateRequest(caller: c, target: target(path), flags: flags, mode: mode, umask: umask)
        let replay: Replay = flags & UInt32(O_EXCL) != 0 ? .unsafe : .safe
        let (conn, o): (Connection, CreateReply) = try opening(.create, replay) { req.encode(into: &$0) }
        return (OpenHandle(conn, o.handle, flags: flags, isDir: false, opener: c), o)
    }

    public func opendir(_ c: Caller, _ path: [UInt8]) throws -> OpenHandle {
        let req = PathRequest(caller: c, target: target(path))
        let (conn, o): (Connection, OpenReply) = try opening(.opendir, .safe) { req.encode(into: &$0) }
        return OpenHandle(conn, o, flags: UInt32(O_RDONLY | O_DIRECTORY), isDir: true, opener: c)
    }

    /// READ: the reply payload is the data itself (no copy beyond the socket read).
    public func read(_ h: OpenHandle, offset: UInt64, size: UInt32) throws -> [UInt8] {
        let r = onHandle(.read, h) { ReadRequest(handle: $0, offset: offset, size: size).encode(into: &$1) }
        try r.check()
        return r.payload
    }

    /// A write at an offset is repeated after a reconnect; an append is not.
    public func write(_ h: OpenHandle, offset: UInt64, data: UnsafeRawBufferPointer) throws -> UInt32 {
        let r = onHandle(.write, h, h.appends ? .unsafe : .safe, tail: data) { id, w in
            w.u64(id); w.u64(offset)
        }
        return try r.decode(WriteReply.self).written
    }

    /// Sends a large write without waiting for its answer (WriteBehind.swift); false when
    /// it must be sent with `write` instead. Throws an error an earlier such write got.
    public func writeBehind(_ h: OpenHandle, offset: UInt64, data: UnsafeRawBufferPointer) throws -> Bool {
        if let e = writeBehind.takeError(h) { throw Errno(e) }
        return writeBehind.write(self, h, offset: offset, data: data)
    }

    /// Close: waits for the handle's writes still in flight and reports their first error.
    /// Without any, costs no round trip (every other WRITE was answered already).
    public func flush(_ h: OpenHandle) throws {
        try writeBehind.settle(self)
        if let e = writeBehind.takeError(h) { throw Errno(e) }
    }

    /// RELEASE and RELEASEDIR are sent without waiting: the kernel gets its answer at once,
    /// the server's answer is dropped (nothing could be done about a failure anyway).
    /// They go on the handle's connection, after its earlier requests; a handle whose
    /// connection died is already closed on the server. `pseudo`: the handle is a pseudo
    /// file's (proc, sysfs, cgroup): opened read-only, its RELEASE may ride with the next
    /// request (HeldFrames.swift).
    public func release(_ h: OpenHandle, pseudo: Bool = false) {
        try? writeBehind.settle(self)
        _ = writeBehind.takeError(h)
        guard let (c, id) = h.live else { return }
        let op: Opcode = h.isDir ? .releasedir : .release
        if pseudo && !h.isDir && h.reopenFlags & UInt32(O_ACCMODE) == UInt32(O_RDONLY) {
            c.postHeld(op) { HandleRequest(handle: id).encode(into: &$0) }
        } else {
            c.post(op) { HandleRequest(handle: id).encode(into: &$0) }
        }
    }
    public func releasedir(_ h: OpenHandle) { release(h) }

    public func fsync(_ h: OpenHandle, dataOnly: Bool) throws {
        try onHandle(.fsync, h) { FsyncRequest(handle: $0, dataOnly: dataOnly).encode(into: &$1) }.check()
        if let e = writeBehind.takeError(h) { throw Errno(e) }
    }

    public func readdir(_ h: OpenHandle, cookie: UInt64, maxBytes: UInt32, plus: Bool) throws -> ReaddirReply {
        try onHandle(.readdir, h) {
            ReaddirRequest(handle: $0, cookie: cookie, maxBytes: maxBytes, plus: plus).encode(into: &$1)
        }.decode(ReaddirReply.self)
    }

    public func lseek(_ h: OpenHandle, offset: Int64, whence: UInt32) throws -> UInt64 {
        try onHandle(.lseek, h) {
            LseekRequest(handle: $0, offset: offset, whence: whence).encode(into: &$1)
        }.decode(LseekReply.self).offset
    }

    /// Collapsing or inserting a range shifts data: not repeated after a lost connection.
    public func fallocate(_ h: OpenHandle, mode: UInt32, offset: UInt64, length: UInt64) throws {
        let shifts = mode & UInt32(0x08 | 0x20) != 0   // FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE
        try onHandle(.fallocate, h, shifts ? .unsafe : .safe) {
            FallocateRequest(handle: $0, mode: mode, offset: offset, length: length).encode(into: &$1)
        }.check()
    }
}
