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
    public var version: UInt16
    public var capabilities: UInt64
    public var maxPayload: UInt32
    public var serverName: String
    public init(version: UInt16 = 1, capabilities: UInt64 = 0, maxPayload: UInt32 = UInt32(Wire.maxPayload), serverName: String) {
        self.version = version; self.capabilities = capabilities
        self.maxPayload = maxPayload; self.serverName = serverName
    }
    public func encode(into w: inout WireWriter) {
        w.u16(version, "chosen version"); w.u64(capabilities, "server capabilities")
        w.u32(maxPayload, "largest payload accepted"); w.string(serverName, "server name \"\(serverName)\"")
    }
    public init(from r: inout WireReader) throws {
        version = try r.u16("version"); capabilities = try r.u64("capabilities")
        maxPayload = try r.u32("maxPayload"); serverName = try r.string("serverName", limit: 255)
    }
}

public struct MountReply: WirePayload {
    public var export: UInt32
    public var base: [UInt8]   // the mounted directory, relative to the export root
    public var root: Attr
    public init(export: UInt32, base: String, root: Attr) {
        self.export = export; self.base = Array(base.utf8); self.root = root
    }
    public func encode(into w: inout WireWriter) {
        w.u32(export, "export id")
        w.bytes16(base, "base path in export \"\(String(decoding: base, as: UTF8.self))\"")
        root.encode(into: &w)
    }
    public init(from r: inout WireReader) throws {
        export = try r.u32("export"); base = try r.bytes16("path", limit: Wire.maxPath); root = try Attr(from: &r)
    }
}

/// LOOKUP, GETATTR, SETATTR, MKNOD, MKDIR, SYMLINK, LINK.
public struct AttrReply: WirePayload {
    public var attr: Attr
    public init(attr: Attr) { self.attr = attr }
    public func encode(into w: inout WireWriter) { attr.encode(into: &w) }
    public init(from r: inout WireReader) throws { attr = try Attr(from: &r) }
}

/// UNLINK, RMDIR, RENAME, FLUSH, FSYNC, RELEASE, RELEASEDIR, ACCESS, SETXATTR, REMOVEXATTR, FALLOCATE.
public struct EmptyReply: WirePayload {
    public init() {}
    public func encode(into w: inout WireWriter) {}
    public init(from r: inout WireReader) throws {}
}

public struct ReadlinkReply: WirePayload {
    public var target: [UInt8]
    public init(target: String) { self.target = Array(target.utf8) }
    public init(targetBytes: [UInt8]) { self.target = targetBytes }
    public func encode(into w: inout WireWriter) {
        w.bytes16(target, "link contents \"\(String(decoding: target, as: UTF8.self))\"")
    }
    public init(from r: inout WireReader) throws { target = try r.bytes16("path", limit: Wire.maxPath) }
}

/// OPEN and OPENDIR (`flags` 0 for directories).
public struct OpenReply: WirePayload {
    public static let directIO: UInt32 = 1     // bypass the client page cache
    public static let nonSeekable: UInt32 = 2  // fifos, sockets, character devices
    public static let keepCache: UInt32 = 4    // cached pages are still valid
    public var handle: UInt64
    public var flags: UInt32
    public init(handle: UInt64, flags: UInt32 = 0) { self.handle = handle; self.flags = flags }
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.u32(flags, "flags: 1 direct I/O, 2 non-seekable, 4 keep cache")
    }
    public init(from r: inout WireReader) throws { handle = try r.u64("handle"); flags = try r.u32("flags") }
}

/// OPEN_READ: the OPEN answer, then the file's whole content when `flags` has `hasContent`
/// (otherwise an empty blob: read it with READ as usual).
public struct OpenReadReply: WirePayload {
    public static let hasContent: UInt32 = 8
    public var open: OpenReply
    public var content: [UInt8]
    public init(_ open: OpenReply, content: [UInt8]) { self.open = open; self.content = content }
    public func encode(into w: inout WireWriter) {
        w.u64(open.handle, "handle")
        w.u32(open.flags, "flags: as OPEN, plus 8 content follows")
        w.blob(content, "content")
    }
    public init(from r: inout WireReader) throws {
        open = try OpenReply(from: &r)
        content = try r.blob("content", limit: Wire.maxOpenContent)
        if open.flags & Self.hasContent == 0, !content.isEmpty { throw WireError.invalid(field: "content") }
    }
}

public struct CreateReply: WirePayload {
    public var handle: UInt64
    public var flags: UInt32
    public var attr: Attr
    public init(handle: UInt64, flags: UInt32 = 0, attr: Attr) {
        self.handle = handle; self.flags = flags; self.attr = attr
    }
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.u32(flags, "open flags"); attr.encode(into: &w)
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle"); flags = try r.u32("flags"); attr = try Attr(from: &r)
    }
}

/// READ: the payload is the data itself, possibly shorter than asked (end of file).
public struct ReadReply: WirePayload {
    public var data: [UInt8]
    public init(data: [UInt8]) { self.data = data }
    public func encode(into w: inout WireWriter) { w.raw(data, "data (whole payload)") }
    public init(from r: inout WireReader) throws { data = Array(r.rest()) }
}

public struct WriteReply: WirePayload {
    public var written: UInt32
    public init(written: UInt32) { self.written = written }
    public func encode(into w: inout WireWriter) { w.u32(written, "bytes written") }
    public init(from r: inout WireReader) throws { written = try r.u32("written") }
}

public struct ReaddirReply: WirePayload {
    public var eof: Bool
    public var entries: [DirEntry]
    public init(eof: Bool, entries: [DirEntry]) { self.eof = eof; self.entries = entries }
    public func encode(into w: inout WireWriter) {
        w.u8(eof ? 1 : 0, "1 = no entries after these")
        w.u32(UInt32(entries.count), "entry count")
        for e in entries { e.encode(into: &w) }
    }
    public init(from r: inout WireReader) throws {
        switch try r.u8("eof") {
        case 0: eof = false
        case 1: eof = true
        default: throw WireError.invalid(field: "eof")
        }
        let n = Int(try r.u32("count"))
        // Each entry takes at least 20 bytes: a count beyond that is a lie.
        guard n <= r.remaining / 20 else { throw WireError.invalid(field: "count") }
        entries = []
        entries.reserveCapacity(n)
        for _ in 0..<n { entries.append(try DirEntry(from: &r)) }
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
    public func encode(into w: inout WireWriter) {
        w.u64(blocks, "blocks"); w.u64(blocksFree, "blocks free"); w.u64(blocksAvailable, "blocks available")
        w.u64(files, "files"); w.u64(filesFree, "files free"); w.u32(blockSize, "block size")
        w.u32(fragmentSize, "fragment size"); w.u32(nameMax, "longest name"); w.u64(fsType, "file system magic")
    }
    public init(from r: inout WireReader) throws {
        blocks = try r.u64("blocks"); blocksFree = try r.u64("bfree"); blocksAvailable = try r.u64("bavail")
        files = try r.u64("files"); filesFree = try r.u64("ffree"); blockSize = try r.u32("bsize")
        fragmentSize = try r.u32("frsize"); nameMax = try r.u32("namemax"); fsType = try r.u64("fsType")
    }
}

/// GETXATTR and LISTXATTR: `size` is the value's length; `data` is present unless the
/// request asked for the length only.
public struct XattrReply: WirePayload {
    public var size: UInt32
    public var data: [UInt8]
    public init(size: UInt32, data: [UInt8]) { self.size = size; self.data = data }
    public func encode(into w: inout WireWriter) {
        w.u32(size, "value length"); w.raw(data, "value (rest of payload; empty for a length query)")
    }
    public init(from r: inout WireReader) throws {
        size = try r.u32("size"); data = Array(r.rest())
        guard data.isEmpty || data.count == Int(size) else { throw WireError.invalid(field: "data") }
    }
}

public struct LseekReply: WirePayload {
    public var offset: UInt64
    public init(offset: UInt64) { self.offset = offset }
    public func encode(into w: inout WireWriter) { w.u64(offset, "resulting offset") }
    public init(from r: inout WireReader) throws { offset = try r.u64("offset") }
}
