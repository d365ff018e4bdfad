// Response bodies (sent only with status 0; an error response has an empty payload).

public struct HelloReply: WirePayload {
    /// Server: authentication (AUTH_CHALLENGE, AUTH_RESPONSE) must succeed before MOUNT.
    public static let capAuthRequired: UInt64 = 1
    /// Reserved: both sides speak TLS after HELLO (docs/protocol.md, "Sealed frames", "TLS").
    public static let capTLS: UInt64 = 2
    /// Server: SOCK_CONNECT and SOCK_LISTEN take `SockConnectRequest.passFiles`.
    public static let capSockFiles: UInt64 = 4
    /// The AEAD suite the server chose for this connection (at most one bit set; none:
    /// plaintext). Sealed.suites maps them to suites.
    public static let capAeadAES256GCM: UInt64 = 8
    public static let capAeadChaCha20Poly1305: UInt64 = 16
    /// Server: answers to OPEN, OPEN_READ and OPENDIR carry the opened file's attributes
    /// (`OpenReply.hasAttr`) on a connection whose client set this bit in its HELLO.
    public static let capOpenAttr: UInt64 = HelloRequest.capOpenAttr
    /// Server: RELEASE and RELEASEDIR are not answered on a connection whose client set this
    /// bit in its HELLO.
    public static let capQuietRelease: UInt64 = HelloRequest.capQuietRelease
    public var version: UInt16
    public var capabilities: UInt64
    public var maxPayload: UInt32
    public var serverName: String
    public init(version: UInt16 = 1, capabilities: UInt64 = 0, maxPayload: UInt32 = UInt32(Wire.maxPayload), serverName: String) {
        self.version = version; self.capabilities = capabilities
        self.maxPayload = maxPayload; self.serverName = serverName
    }
    public static var unfilled: HelloReply { HelloReply(serverName: "") }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u16(&version, "chosen version"); try c.u64(&capabilities, "server capabilities")
        try c.u32(&maxPayload, "largest payload accepted")
        try c.string(&serverName, "server name", TextLimit(255, field: "serverName"), quoted: true)
    }
}

public struct MountReply: WirePayload {
    public var export: UInt32
    public var base: [UInt8]   // the mounted directory, relative to the export root
    public var root: Attr
    public init(export: UInt32, base: String, root: Attr) {
        self.export = export; self.base = Array(base.utf8); self.root = root
    }
    public static var unfilled: MountReply { MountReply(export: 0, base: "", root: .unfilled) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u32(&export, "export id"); try c.bytes16(&base, "base path in export", .path, quoted: true)
        try root.layout(&c)
    }
}

/// LOOKUP, GETATTR, SETATTR, MKNOD, MKDIR, SYMLINK, LINK.
public struct AttrReply: WirePayload {
    public var attr: Attr
    public init(attr: Attr) { self.attr = attr }
    public static var unfilled: AttrReply { AttrReply(attr: .unfilled) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try attr.layout(&c) }
}

/// UNLINK, RMDIR, RENAME, FLUSH, FSYNC, RELEASE, RELEASEDIR, ACCESS, SETXATTR, REMOVEXATTR, FALLOCATE.
public struct EmptyReply: WirePayload {
    public init() {}
    public static var unfilled: EmptyReply { EmptyReply() }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {}
}

public struct ReadlinkReply: WirePayload {
    public var target: [UInt8]
    public init(target: String) { self.target = Array(target.utf8) }
    public init(targetBytes: [UInt8]) { self.target = targetBytes }
    public static var unfilled: ReadlinkReply { ReadlinkReply(targetBytes: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.bytes16(&target, "link contents", .path, quoted: true)
    }
}

/// OPEN and OPENDIR (`flags` 0 for directories).
public struct OpenReply: WirePayload {
    public static let directIO: UInt32 = 1     // bypass the client page cache
    public static let nonSeekable: UInt32 = 2  // fifos, sockets, character devices
    public static let keepCache: UInt32 = 4    // cached pages are still valid
    public static let hasAttr: UInt32 = 16     // the opened file's attributes follow (capability OPEN_ATTR)
    public var handle: UInt64
    public var flags: UInt32
    /// The opened file's own attributes (fstat of the handle); set exactly when `hasAttr` is.
    public var attr: Attr?
    public init(handle: UInt64, flags: UInt32 = 0, attr: Attr? = nil) {
        self.handle = handle
        self.flags = attr == nil ? flags & ~Self.hasAttr : flags | Self.hasAttr
        self.attr = attr
    }
    public static var unfilled: OpenReply { OpenReply(handle: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try layout(&c, flags: "flags: 1 direct I/O, 2 non-seekable, 4 keep cache, 16 attributes follow")
    }
    mutating func layout<C: WireCoder>(_ c: inout C, flags note: @autoclosure () -> String) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.u32(&flags, note())
        guard flags & Self.hasAttr != 0 else { return }
        var a = attr ?? .unfilled
        try a.layout(&c)
        attr = a
    }
}

/// OPEN_READ: the OPEN answer, then the file's whole content when `flags` has `hasContent`
/// (otherwise an empty blob: read it with READ as usual).
public struct OpenReadReply: WirePayload {
    public static let hasContent: UInt32 = 8
    public var open: OpenReply
    public var content: [UInt8]
    public init(_ open: OpenReply, content: [UInt8]) { self.open = open; self.content = content }
    public static var unfilled: OpenReadReply { OpenReadReply(.unfilled, content: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try open.layout(&c, flags: "flags: as OPEN, plus 8 content follows (after the attributes)")
        try c.blob(&content, "content", limit: Wire.maxOpenContent)
        try c.require(open.flags & Self.hasContent != 0 || content.isEmpty, .invalid(field: "content"))
    }
}

/// LOOKUP_OPEN: the target's attributes, then an OPEN_READ answer. For anything but a
/// regular file nothing is opened: handle 0, no flags, no content.
public struct LookupOpenReply: WirePayload {
    public var attr: Attr
    public var opened: OpenReadReply
    public init(attr: Attr, opened: OpenReadReply) { self.attr = attr; self.opened = opened }
    public static var unfilled: LookupOpenReply { LookupOpenReply(attr: .unfilled, opened: .unfilled) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try attr.layout(&c); try opened.layout(&c)
    }
}

public struct CreateReply: WirePayload {
    public var handle: UInt64
    public var flags: UInt32
    public var attr: Attr
    public init(handle: UInt64, flags: UInt32 = 0, attr: Attr) {
        self.handle = handle; self.flags = flags; self.attr = attr
    }
    public static var unfilled: CreateReply { CreateReply(handle: 0, attr: .unfilled) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.u32(&flags, "open flags"); try attr.layout(&c)
    }
}

/// READ: the payload is the data itself, possibly shorter than asked (end of file).
public struct ReadReply: WirePayload {
    public var data: [UInt8]
    public init(data: [UInt8]) { self.data = data }
    public static var unfilled: ReadReply { ReadReply(data: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.rest(&data, "data (whole payload)") }
}

public struct WriteReply: WirePayload {
    public var written: UInt32
    public init(written: UInt32) { self.written = written }
    public static var unfilled: WriteReply { WriteReply(written: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.u32(&written, "bytes written") }
}

public struct ReaddirReply: WirePayload {
    public var eof: Bool
    public var entries: [DirEntry]
    public init(eof: Bool, entries: [DirEntry]) { self.eof = eof; self.entries = entries }
    public static var unfilled: ReaddirReply { ReaddirReply(eof: false, entries: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.bool8(&eof, "1 = no entries after these", field: "eof")
        var n = UInt32(entries.count)
        try c.u32(&n, "entry count")
        // Each entry takes at least 20 bytes: a count beyond that is a lie.
        try c.require(n <= c.remaining / 20, .invalid(field: "count"))
        try c.list(&entries, count: Int(n), unfilled: .unfilled) { (c, e) throws(C.Failure) in try e.layout(&c) }
    }
}

public struct StatfsReply: WirePayload {
    public var blocks: UInt64
    public var blocksFree: UInt64
    public var blocksAvailable: UInt64
    public var files: UInt64
    public var filesFree: UInt64
    public var blockSize: UInt32
    public var fragmentSize: UInt32
    public var nameMax: UInt32
    public var fsType: UInt64   // statfs f_type magic of the host file system
    public init(blocks: UInt64, blocksFree: UInt64, blocksAvailable: UInt64, files: UInt64, filesFree: UInt64,
                blockSize: UInt32, fragmentSize: UInt32, nameMax: UInt32, fsType: UInt64) {
        self.blocks = blocks; self.blocksFree = blocksFree; self.blocksAvailable = blocksAvailable
        self.files = files; self.filesFree = filesFree; self.blockSize = blockSize
        self.fragmentSize = fragmentSize; self.nameMax = nameMax; self.fsType = fsType
    }
    public static var unfilled: StatfsReply {
        StatfsReply(blocks: 0, blocksFree: 0, blocksAvailable: 0, files: 0, filesFree: 0,
                    blockSize: 0, fragmentSize: 0, nameMax: 0, fsType: 0)
    }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&blocks, "blocks"); try c.u64(&blocksFree, "blocks free"); try c.u64(&blocksAvailable, "blocks available")
        try c.u64(&files, "files"); try c.u64(&filesFree, "files free"); try c.u32(&blockSize, "block size")
        try c.u32(&fragmentSize, "fragment size"); try c.u32(&nameMax, "longest name"); try c.u64(&fsType, "file system magic")
    }
}

/// GETXATTR and LISTXATTR: `size` is the value's length; `data` is present unless the
/// request asked for the length only.
public struct XattrReply: WirePayload {
    public var size: UInt32
    public var data: [UInt8]
    public init(size: UInt32, data: [UInt8]) { self.size = size; self.data = data }
    public static var unfilled: XattrReply { XattrReply(size: 0, data: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u32(&size, "value length"); try c.rest(&data, "value (rest of payload; empty for a length query)")
        try c.require(data.isEmpty || data.count == Int(size), .invalid(field: "data"))
    }
}

public struct LseekReply: WirePayload {
    public var offset: UInt64
    public init(offset: UInt64) { self.offset = offset }
    public static var unfilled: LseekReply { LseekReply(offset: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.u64(&offset, "resulting offset") }
}
