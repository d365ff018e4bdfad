// Request bodies. docs/protocol.md lists which opcode uses which body, and each
// operation's semantics and errors.

public struct HelloRequest: WirePayload {
    /// Client: it can authenticate (informational, docs/protocol.md "Version negotiation").
    public static let capAuthCapable: UInt64 = 1
    public var minVersion: UInt16
    public var maxVersion: UInt16
    public var capabilities: UInt64
    public var clientName: String
    public init(minVersion: UInt16 = 1, maxVersion: UInt16 = 1, capabilities: UInt64 = 0, clientName: String) {
        self.minVersion = minVersion; self.maxVersion = maxVersion
        self.capabilities = capabilities; self.clientName = clientName
    }
    public func encode(into w: inout WireWriter) {
        w.u16(minVersion, "lowest version spoken"); w.u16(maxVersion, "highest version spoken")
        w.u64(capabilities, "client capabilities"); w.string(clientName, "client name \"\(clientName)\"")
    }
    public init(from r: inout WireReader) throws {
        minVersion = try r.u16("minVersion"); maxVersion = try r.u16("maxVersion")
        capabilities = try r.u64("capabilities"); clientName = try r.string("clientName", limit: 255)
    }
}

public struct MountRequest: WirePayload {
    public var caller: Caller
    public var path: [UInt8]   // absolute host path
    public init(caller: Caller, path: String) { self.caller = caller; self.path = Array(path.utf8) }
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); w.bytes16(path, "host path \"\(String(decoding: path, as: UTF8.self))\"")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); path = try r.bytes16("path", limit: Wire.maxPath)
    }
}

/// LOOKUP, READLINK, UNLINK, RMDIR, OPENDIR, STATFS.
public struct PathRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public init(caller: Caller, target: Target) { self.caller = caller; self.target = target }
    public func encode(into w: inout WireWriter) { caller.encode(into: &w); target.encode(into: &w) }
    public init(from r: inout WireReader) throws { caller = try Caller(from: &r); target = try Target(from: &r) }
}

public struct GetattrRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var handle: UInt64   // 0: by path; otherwise fstat of this open handle
    public init(caller: Caller, target: Target, handle: UInt64 = 0) {
        self.caller = caller; self.target = target; self.handle = handle
    }
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w); w.u64(handle, "handle (0 = by path)")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r); handle = try r.u64("handle")
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
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w); w.u64(handle, "handle (0 = by path)")
        w.u32(valid.rawValue, "valid: 1 mode 2 uid 4 gid 8 size 16 atime 32 mtime 64 atime=now 128 mtime=now")
        w.u32(mode, "mode"); w.u32(uid, "uid"); w.u32(gid, "gid"); w.u64(size, "size")
        atime.encode(into: &w, "atime"); mtime.encode(into: &w, "mtime")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r); handle = try r.u64("handle")
        let bits = try r.u32("valid")
        guard bits & ~SetattrRequest.Valid.all == 0 else { throw WireError.invalid(field: "valid") }
        valid = Valid(rawValue: bits)
        mode = try r.u32("mode"); uid = try r.u32("uid"); gid = try r.u32("gid"); size = try r.u64("size")
        atime = try Timespec(from: &r, "atime"); mtime = try Timespec(from: &r, "mtime")
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
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w)
        w.u32(mode, "mode (type and permissions)"); w.u64(rdev, "rdev"); w.u32(umask, "umask")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r)
        mode = try r.u32("mode"); rdev = try r.u64("rdev"); umask = try r.u32("umask")
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
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w); w.u32(mode, "mode"); w.u32(umask, "umask")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r)
        mode = try r.u32("mode"); umask = try r.u32("umask")
    }
}

public struct SymlinkRequest: WirePayload {
    public var caller: Caller
    public var target: Target          // where the link is created
    public var linkTarget: [UInt8]      // what it points to, stored verbatim
    public init(caller: Caller, target: Target, linkTarget: String) {
        self.caller = caller; self.target = target; self.linkTarget = Array(linkTarget.utf8)
    }
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w)
        w.bytes16(linkTarget, "link contents \"\(String(decoding: linkTarget, as: UTF8.self))\"")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r)
        linkTarget = try r.bytes16("path", limit: Wire.maxPath)
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
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); from.encode(into: &w, "from: "); to.encode(into: &w, "to: ")
        w.u32(flags, "flags: 1 RENAME_NOREPLACE, 2 RENAME_EXCHANGE, 4 RENAME_WHITEOUT")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); from = try Target(from: &r); to = try Target(from: &r)
        flags = try r.u32("flags")
        // EXCHANGE goes alone; NOREPLACE and WHITEOUT may be combined.
        guard flags & ~7 == 0, flags & Self.renameExchange == 0 || flags == Self.renameExchange else {
            throw WireError.invalid(field: "flags")
        }
    }
}

public struct OpenRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var flags: UInt32   // Linux open(2) flags
    public init(caller: Caller, target: Target, flags: UInt32) {
        self.caller = caller; self.target = target; self.flags = flags
    }
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w); w.u32(flags, "open flags (Linux numbering)")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r); flags = try r.u32("flags")
    }
}

/// OPEN_READ: OPEN, and when the file is opened read-only and its whole content fits in
/// `maxBytes`, that content in the same answer (one round trip for open+read).
public struct OpenReadRequest: WirePayload {
    public var open: OpenRequest
    public var maxBytes: UInt32
    public init(_ open: OpenRequest, maxBytes: UInt32) { self.open = open; self.maxBytes = maxBytes }
    public func encode(into w: inout WireWriter) {
        open.encode(into: &w); w.u32(maxBytes, "content wanted up to this many bytes")
    }
    public init(from r: inout WireReader) throws {
        open = try OpenRequest(from: &r)
        maxBytes = try r.u32("maxBytes")
        guard maxBytes <= UInt32(Wire.maxOpenContent) else { throw WireError.invalid(field: "maxBytes") }
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
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w)
        w.u32(flags, "open flags (O_CREAT implied)"); w.u32(mode, "mode"); w.u32(umask, "umask")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r)
        flags = try r.u32("flags"); mode = try r.u32("mode"); umask = try r.u32("umask")
    }
}

public struct ReadRequest: WirePayload {
    public var handle: UInt64
    public var offset: UInt64
    public var size: UInt32
    public init(handle: UInt64, offset: UInt64, size: UInt32) {
        self.handle = handle; self.offset = offset; self.size = size
    }
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.u64(offset, "offset"); w.u32(size, "bytes wanted")
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle"); offset = try r.u64("offset"); size = try r.u32("size")
        guard size <= UInt32(Wire.maxIOSize) else { throw WireError.invalid(field: "size") }
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
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.u64(offset, "offset"); w.raw(data, "data (rest of payload)")
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle"); offset = try r.u64("offset")
        let rest = r.rest()
        guard rest.count <= Wire.maxIOSize else { throw WireError.invalid(field: "data") }
        data = Array(rest)
    }
}

/// FLUSH, RELEASE, RELEASEDIR.
public struct HandleRequest: WirePayload {
    public var handle: UInt64
    public init(handle: UInt64) { self.handle = handle }
    public func encode(into w: inout WireWriter) { w.u64(handle, "handle") }
    public init(from r: inout WireReader) throws { handle = try r.u64("handle") }
}

public struct FsyncRequest: WirePayload {
    public var handle: UInt64
    public var dataOnly: Bool
    public init(handle: UInt64, dataOnly: Bool) { self.handle = handle; self.dataOnly = dataOnly }
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.u32(dataOnly ? 1 : 0, "1 = fdatasync")
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle")
        switch try r.u32("datasync") {
        case 0: dataOnly = false
        case 1: dataOnly = true
        default: throw WireError.invalid(field: "datasync")
        }
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
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "directory handle"); w.u64(cookie, "resume cookie (0 = start)")
        w.u32(maxBytes, "byte budget for entries"); w.u32(plus ? 1 : 0, "1 = with attributes")
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle"); cookie = try r.u64("cookie"); maxBytes = try r.u32("maxBytes")
        guard maxBytes <= UInt32(Wire.maxIOSize) else { throw WireError.invalid(field: "maxBytes") }
        switch try r.u32("plus") {
        case 0: plus = false
        case 1: plus = true
        default: throw WireError.invalid(field: "plus")
        }
    }
}

public struct AccessRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var mask: UInt32   // R_OK 4, W_OK 2, X_OK 1, F_OK 0
    public init(caller: Caller, target: Target, mask: UInt32) {
        self.caller = caller; self.target = target; self.mask = mask
    }
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w); w.u32(mask, "mask: 4 R_OK 2 W_OK 1 X_OK")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r); mask = try r.u32("mask")
        guard mask & ~7 == 0 else { throw WireError.invalid(field: "mask") }
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
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w)
        w.bytes16(name, "attribute name \"\(String(decoding: name, as: UTF8.self))\"")
        w.u32(size, "buffer size (0 = length only)")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r)
        name = try r.bytes16("name", limit: Wire.maxXattrName)
        size = try r.u32("size")
        guard size <= UInt32(Wire.maxXattrValue) else { throw WireError.invalid(field: "size") }
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
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w)
        w.bytes16(name, "attribute name \"\(String(decoding: name, as: UTF8.self))\"")
        w.u32(flags, "flags: 1 XATTR_CREATE 2 XATTR_REPLACE"); w.blob(value, "value")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r)
        name = try r.bytes16("name", limit: Wire.maxXattrName)
        flags = try r.u32("flags")
        guard flags & ~3 == 0 else { throw WireError.invalid(field: "flags") }
        value = try r.blob("value", limit: Wire.maxXattrValue)
    }
}

public struct RemovexattrRequest: WirePayload {
    public var caller: Caller
    public var target: Target
    public var name: [UInt8]
    public init(caller: Caller, target: Target, name: String) {
        self.caller = caller; self.target = target; self.name = Array(name.utf8)
    }
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); target.encode(into: &w)
        w.bytes16(name, "attribute name \"\(String(decoding: name, as: UTF8.self))\"")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r); target = try Target(from: &r)
        name = try r.bytes16("name", limit: Wire.maxXattrName)
    }
}

public struct LseekRequest: WirePayload {
    public var handle: UInt64
    public var offset: Int64
    public var whence: UInt32   // SEEK_SET 0, SEEK_CUR 1, SEEK_END 2, SEEK_DATA 3, SEEK_HOLE 4
    public init(handle: UInt64, offset: Int64, whence: UInt32) {
        self.handle = handle; self.offset = offset; self.whence = whence
    }
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.i64(offset, "offset"); w.u32(whence, "whence: 3 SEEK_DATA 4 SEEK_HOLE")
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle"); offset = try r.i64("offset"); whence = try r.u32("whence")
        guard whence <= 4 else { throw WireError.invalid(field: "whence") }
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
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.u32(mode, "fallocate mode"); w.u64(offset, "offset"); w.u64(length, "length")
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle"); mode = try r.u32("mode")
        offset = try r.u64("offset"); length = try r.u64("length")
    }
}
