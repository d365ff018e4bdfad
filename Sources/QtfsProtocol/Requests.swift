// Request bodies. docs/protocol.md lists which opcode uses which body, and each
// operation's semantics and errors.

public struct HelloRequest: WirePayload {
    /// Client: it can authenticate (informational, docs/protocol.md "Version negotiation").
    public static let capAuthCapable: UInt64 = 1
    /// Client: wants the opened file's attributes with OPEN, OPEN_READ and OPENDIR answers
    /// (given by a server that sets the same bit in its answer).
    public static let capOpenAttr: UInt64 = 32
    /// Client: does not want answers to RELEASE and RELEASEDIR (given by a server that sets
    /// the same bit in its answer: it then never sends them).
    public static let capQuietRelease: UInt64 = 64
    public var minVersion: UInt16
    public var maxVersion: UInt16
    public var capabilities: UInt64
    public var clientName: String
    public init(minVersion: UInt16 = 1, maxVersion: UInt16 = 1, capabilities: UInt64 = 0, clientName: String) {
        self.minVersion = minVersion; self.maxVersion = maxVersion
        self.capabilities = capabilities; self.clientName = clientName
    }
    public static var unfilled: HelloRequest { HelloRequest(clientName: "") }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u16(&minVersion, "lowest version spoken"); try c.u16(&maxVersion, "highest version spoken")
        try c.u64(&capabilities, "client capabilities")
        try c.string(&clientName, "client name", TextLimit(255, field: "clientName"), quoted: true)
    }
}

public struct MountRequest: WirePayload {
    public var caller: Caller
    public var path: [UInt8]   // absolute host path
    public init(caller: Caller, path: String) { self.caller = caller; self.path = Array(path.utf8) }
    public static var unfilled: MountRequest { MountRequest(caller: .unfilled, path: "") }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try c.bytes16(&path, "host path", .path, quoted: true)
    }
}

/// LOOKUP, READLINK, UNLINK, RMDIR, OPENDIR, STATFS.
public struct PathRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public init(caller: Caller, target: Target) { self.caller = caller; self.target = target }
    public static var unfilled: PathRequest { PathRequest(caller: .unfilled, target: .unfilled) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try caller.layout(&c); try target.layout(&c) }
}

public struct GetattrRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var handle: UInt64   // 0: by path; otherwise fstat of this open handle
    public init(caller: Caller, target: Target, handle: UInt64 = 0) {
        self.caller = caller; self.target = target; self.handle = handle
    }
    public static var unfilled: GetattrRequest { GetattrRequest(caller: .unfilled, target: .unfilled) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.u64(&handle, "handle (0 = by path)")
    }
}

public struct SetattrRequest: WirePayload {
    public struct Valid: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let mode = Valid(rawValue: 1)
        public static let uid = Valid(rawValue: 2)
        public static let gid = Valid(rawValue: 4)
        public static let size = Valid(rawValue: 8)
        public static let atime = Valid(rawValue: 16)
        public static let mtime = Valid(rawValue: 32)
        public static let atimeNow = Valid(rawValue: 64)
        public static let mtimeNow = Valid(rawValue: 128)
        public static let all: UInt32 = 255
    }
    public var caller: Caller
    public var target: Target
    public var handle: UInt64
    public var valid: Valid
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var atime: Timespec
    public var mtime: Timespec

    public init(caller: Caller, target: Target, handle: UInt64 = 0, valid: Valid, mode: UInt32 = 0,
                uid: UInt32 = 0, gid: UInt32 = 0, size: UInt64 = 0, atime: Timespec = .zero, mtime: Timespec = .zero) {
        self.caller = caller; self.target = target; self.handle = handle; self.valid = valid
        self.mode = mode; self.uid = uid; self.gid = gid; self.size = size; self.atime = atime; self.mtime = mtime
    }
    public static var unfilled: SetattrRequest { SetattrRequest(caller: .unfilled, target: .unfilled, valid: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.u64(&handle, "handle (0 = by path)")
        var bits = valid.rawValue
        try c.u32(&bits, "valid: 1 mode 2 uid 4 gid 8 size 16 atime 32 mtime 64 atime=now 128 mtime=now")
        try c.require(bits & ~Valid.all == 0, .invalid(field: "valid"))
        valid = Valid(rawValue: bits)
        try c.u32(&mode, "mode"); try c.u32(&uid, "uid"); try c.u32(&gid, "gid"); try c.u64(&size, "size")
        try atime.layout(&c, "atime"); try mtime.layout(&c, "mtime")
    }
}

public struct MknodRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var mode: UInt32
    public var rdev: UInt64
    public var umask: UInt32
    public init(caller: Caller, target: Target, mode: UInt32, rdev: UInt64 = 0, umask: UInt32 = 0) {
        self.caller = caller; self.target = target; self.mode = mode; self.rdev = rdev; self.umask = umask
    }
    public static var unfilled: MknodRequest { MknodRequest(caller: .unfilled, target: .unfilled, mode: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c)
        try c.u32(&mode, "mode (type and permissions)"); try c.u64(&rdev, "rdev"); try c.u32(&umask, "umask")
    }
}

public struct MkdirRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var mode: UInt32
    public var umask: UInt32
    public init(caller: Caller, target: Target, mode: UInt32, umask: UInt32 = 0) {
        self.caller = caller; self.target = target; self.mode = mode; self.umask = umask
    }
    public static var unfilled: MkdirRequest { MkdirRequest(caller: .unfilled, target: .unfilled, mode: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.u32(&mode, "mode"); try c.u32(&umask, "umask")
    }
}

public struct SymlinkRequest: WirePayload {
    public var caller: Caller
    public var target: Target          // where the link is created
    public var linkTarget: [UInt8]      // what it points to, stored verbatim
    public init(caller: Caller, target: Target, linkTarget: String) {
        self.caller = caller; self.target = target; self.linkTarget = Array(linkTarget.utf8)
    }
    public static var unfilled: SymlinkRequest { SymlinkRequest(caller: .unfilled, target: .unfilled, linkTarget: "") }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.bytes16(&linkTarget, "link contents", .path, quoted: true)
    }
}

/// RENAME (with `flags`) and LINK (flags 0): `from` is the existing name.
public struct TwoPathRequest: WirePayload {
    public static let renameNoReplace: UInt32 = 1
    public static let renameExchange: UInt32 = 2
    public static let renameWhiteout: UInt32 = 4
    public var caller: Caller
    public var from: Target
    public var to: Target
    public var flags: UInt32
    public init(caller: Caller, from: Target, to: Target, flags: UInt32 = 0) {
        self.caller = caller; self.from = from; self.to = to; self.flags = flags
    }
    public static var unfilled: TwoPathRequest { TwoPathRequest(caller: .unfilled, from: .unfilled, to: .unfilled) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try from.layout(&c, role: "from: "); try to.layout(&c, role: "to: ")
        try c.u32(&flags, "flags: 1 RENAME_NOREPLACE, 2 RENAME_EXCHANGE, 4 RENAME_WHITEOUT")
        // EXCHANGE goes alone; NOREPLACE and WHITEOUT may be combined.
        try c.require(flags & ~7 == 0 && (flags & Self.renameExchange == 0 || flags == Self.renameExchange),
                      .invalid(field: "flags"))
    }
}

public struct OpenRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var flags: UInt32   // Linux open(2) flags
    public init(caller: Caller, target: Target, flags: UInt32) {
        self.caller = caller; self.target = target; self.flags = flags
    }
    public static var unfilled: OpenRequest { OpenRequest(caller: .unfilled, target: .unfilled, flags: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.u32(&flags, "open flags (Linux numbering)")
    }
}

/// OPEN_READ: OPEN, and when the file is opened read-only and its whole content fits in
/// `maxBytes`, that content in the same answer (one round trip for open+read).
public struct OpenReadRequest: WirePayload {
    public var open: OpenRequest
    public var maxBytes: UInt32
    public init(_ open: OpenRequest, maxBytes: UInt32) { self.open = open; self.maxBytes = maxBytes }
    public static var unfilled: OpenReadRequest { OpenReadRequest(.unfilled, maxBytes: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try open.layout(&c); try c.u32(&maxBytes, "content wanted up to this many bytes")
        try c.require(maxBytes <= UInt32(Wire.maxOpenContent), .invalid(field: "maxBytes"))
    }
}

public struct CreateRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var flags: UInt32
    public var mode: UInt32
    public var umask: UInt32
    public init(caller: Caller, target: Target, flags: UInt32, mode: UInt32, umask: UInt32 = 0) {
        self.caller = caller; self.target = target; self.flags = flags; self.mode = mode; self.umask = umask
    }
    public static var unfilled: CreateRequest { CreateRequest(caller: .unfilled, target: .unfilled, flags: 0, mode: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c)
        try c.u32(&flags, "open flags (O_CREAT implied)"); try c.u32(&mode, "mode"); try c.u32(&umask, "umask")
    }
}

public struct ReadRequest: WirePayload {
    public var handle: UInt64
    public var offset: UInt64
    public var size: UInt32
    public init(handle: UInt64, offset: UInt64, size: UInt32) {
        self.handle = handle; self.offset = offset; self.size = size
    }
    public static var unfilled: ReadRequest { ReadRequest(handle: 0, offset: 0, size: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.u64(&offset, "offset"); try c.u32(&size, "bytes wanted")
        try c.require(size <= UInt32(Wire.maxIOSize), .invalid(field: "size"))
    }
}

/// WRITE: the data is the rest of the payload, so the server can write it in place.
public struct WriteRequest: WirePayload {
    public static let fixedSize = 16
    public var handle: UInt64
    public var offset: UInt64
    public var data: [UInt8]
    public init(handle: UInt64, offset: UInt64, data: [UInt8]) {
        self.handle = handle; self.offset = offset; self.data = data
    }
    public static var unfilled: WriteRequest { WriteRequest(handle: 0, offset: 0, data: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.u64(&offset, "offset"); try c.rest(&data, "data (rest of payload)")
        try c.require(data.count <= Wire.maxIOSize, .invalid(field: "data"))
    }
}

/// FLUSH, RELEASE, RELEASEDIR.
public struct HandleRequest: WirePayload {
    public var handle: UInt64
    public init(handle: UInt64) { self.handle = handle }
    public static var unfilled: HandleRequest { HandleRequest(handle: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.u64(&handle, "handle") }
}

public struct FsyncRequest: WirePayload {
    public var handle: UInt64
    public var dataOnly: Bool
    public init(handle: UInt64, dataOnly: Bool) { self.handle = handle; self.dataOnly = dataOnly }
    public static var unfilled: FsyncRequest { FsyncRequest(handle: 0, dataOnly: false) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.bool32(&dataOnly, "1 = fdatasync", field: "datasync")
    }
}

public struct ReaddirRequest: WirePayload {
    public var handle: UInt64
    public var cookie: UInt64     // 0 = from the start, else an entry's cookie
    public var maxBytes: UInt32   // budget for the encoded entries
    public var plus: Bool         // include attributes
    public init(handle: UInt64, cookie: UInt64, maxBytes: UInt32, plus: Bool) {
        self.handle = handle; self.cookie = cookie; self.maxBytes = maxBytes; self.plus = plus
    }
    public static var unfilled: ReaddirRequest { ReaddirRequest(handle: 0, cookie: 0, maxBytes: 0, plus: false) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "directory handle"); try c.u64(&cookie, "resume cookie (0 = start)")
        try c.u32(&maxBytes, "byte budget for entries")
        try c.require(maxBytes <= UInt32(Wire.maxIOSize), .invalid(field: "maxBytes"))
        try c.bool32(&plus, "1 = with attributes", field: "plus")
    }
}

public struct AccessRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var mask: UInt32   // R_OK 4, W_OK 2, X_OK 1, F_OK 0
    public init(caller: Caller, target: Target, mask: UInt32) {
        self.caller = caller; self.target = target; self.mask = mask
    }
    public static var unfilled: AccessRequest { AccessRequest(caller: .unfilled, target: .unfilled, mask: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.u32(&mask, "mask: 4 R_OK 2 W_OK 1 X_OK")
        try c.require(mask & ~7 == 0, .invalid(field: "mask"))
    }
}

/// GETXATTR (name set) and LISTXATTR (name empty). `size` 0 asks for the length only.
public struct XattrGetRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var name: [UInt8]
    public var size: UInt32
    public init(caller: Caller, target: Target, name: String, size: UInt32) {
        self.caller = caller; self.target = target; self.name = Array(name.utf8); self.size = size
    }
    public static var unfilled: XattrGetRequest { XattrGetRequest(caller: .unfilled, target: .unfilled, name: "", size: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.bytes16(&name, "attribute name", .xattrName, quoted: true)
        try c.u32(&size, "buffer size (0 = length only)")
        try c.require(size <= UInt32(Wire.maxXattrValue), .invalid(field: "size"))
    }
}

public struct SetxattrRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var name: [UInt8]
    public var flags: UInt32   // XATTR_CREATE 1, XATTR_REPLACE 2
    public var value: [UInt8]
    public init(caller: Caller, target: Target, name: String, flags: UInt32, value: [UInt8]) {
        self.caller = caller; self.target = target; self.name = Array(name.utf8); self.flags = flags; self.value = value
    }
    public static var unfilled: SetxattrRequest {
        SetxattrRequest(caller: .unfilled, target: .unfilled, name: "", flags: 0, value: [])
    }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.bytes16(&name, "attribute name", .xattrName, quoted: true)
        try c.u32(&flags, "flags: 1 XATTR_CREATE 2 XATTR_REPLACE")
        try c.require(flags & ~3 == 0, .invalid(field: "flags"))
        try c.blob(&value, "value", limit: Wire.maxXattrValue)
    }
}

public struct RemovexattrRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var name: [UInt8]
    public init(caller: Caller, target: Target, name: String) {
        self.caller = caller; self.target = target; self.name = Array(name.utf8)
    }
    public static var unfilled: RemovexattrRequest { RemovexattrRequest(caller: .unfilled, target: .unfilled, name: "") }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try target.layout(&c); try c.bytes16(&name, "attribute name", .xattrName, quoted: true)
    }
}

public struct LseekRequest: WirePayload {
    public var handle: UInt64
    public var offset: Int64
    public var whence: UInt32   // SEEK_SET 0, SEEK_CUR 1, SEEK_END 2, SEEK_DATA 3, SEEK_HOLE 4
    public init(handle: UInt64, offset: Int64, whence: UInt32) {
        self.handle = handle; self.offset = offset; self.whence = whence
    }
    public static var unfilled: LseekRequest { LseekRequest(handle: 0, offset: 0, whence: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.i64(&offset, "offset"); try c.u32(&whence, "whence: 3 SEEK_DATA 4 SEEK_HOLE")
        try c.require(whence <= 4, .invalid(field: "whence"))
    }
}

public struct FallocateRequest: WirePayload {
    public var handle: UInt64
    public var mode: UInt32   // fallocate(2) mode bits
    public var offset: UInt64
    public var length: UInt64
    public init(handle: UInt64, mode: UInt32, offset: UInt64, length: UInt64) {
        self.handle = handle; self.mode = mode; self.offset = offset; self.length = length
    }
    public static var unfilled: FallocateRequest { FallocateRequest(handle: 0, mode: 0, offset: 0, length: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.u32(&mode, "fallocate mode")
        try c.u64(&offset, "offset"); try c.u64(&length, "length")
    }
}
