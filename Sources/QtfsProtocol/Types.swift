// Value types that appear inside several messages.

/// Implemented by every request and response body; its fields are its `layout`.
public protocol WirePayload: WireLayout, Equatable, Sendable {}

// These go through the conformance (`writeFields`, `readFields`): see WireLayout's requirements.
extension WirePayload {
    /// Decodes a whole payload, rejecting trailing bytes.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws -> Self {
        var r = WireReader(payload)
        let v = try Self.readFields(from: &r)
        try r.expectEnd()
        return v
    }
    public static func decode(_ payload: [UInt8]) throws -> Self {
        try payload.withUnsafeBytes { try decode($0) }
    }
    public consuming func encoded() -> [UInt8] {
        var w = WireWriter()
        Self.writeFields(of: self, into: &w)
        return w.bytes
    }
}

/// Who asks: the server performs the operation with these credentials.
public struct Caller: WireLayout, Equatable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: UInt32
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, pid: UInt32 = 0, groups: [UInt32] = []) {
        self.uid = uid; self.gid = gid; self.pid = pid; self.groups = groups
    }
    public static let root = Caller(uid: 0, gid: 0)

    public static var unfilled: Caller { Caller(uid: 0, gid: 0) }

    /// At most Wire.maxGroups groups travel; a sender with more sends the first ones.
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u32(&uid, "caller uid")
        try c.u32(&gid, "caller gid")
        try c.u32(&pid, "caller pid (informational)")
        var n = UInt16(min(groups.count, Wire.maxGroups))
        try c.u16(&n, "supplementary group count")
        try c.require(n <= Wire.maxGroups, .tooLong(field: "caller.groups", length: Int(n), limit: Wire.maxGroups))
        try c.list(&groups, count: Int(n), unfilled: 0) { (c, g) throws(C.Failure) in try c.u32(&g, "supplementary group") }
    }
}

/// A location: an export (from MOUNT) and a path relative to its root. The path has no
/// leading '/', and no empty, "." or ".." component; "" is the export root itself.
public struct Target: WireLayout, Equatable, Sendable {
    public var export: UInt32
    public var path: [UInt8]

    public init(export: UInt32, path: [UInt8]) { self.export = export; self.path = path }
    public init(export: UInt32, _ path: String) { self.export = export; self.path = Array(path.utf8) }

    public var pathString: String { String(decoding: path, as: UTF8.self) }

    public static var unfilled: Target { Target(export: 0, path: []) }

    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try layout(&c, role: "") }

    /// `role` names which target it is in a message with two ("from: ", "to: ").
    mutating func layout<C: WireCoder>(_ c: inout C, role: @autoclosure () -> String) throws(C.Failure) {
        try c.u32(&export, "\(role())export id")
        try c.bytes16(&path, "\(role())path", .path, quoted: true)
    }
}

public struct Timespec: Equatable, Sendable {
    public var seconds: Int64
    public var nanoseconds: UInt32
    public init(seconds: Int64, nanoseconds: UInt32) { self.seconds = seconds; self.nanoseconds = nanoseconds }
    public static let zero = Timespec(seconds: 0, nanoseconds: 0)

    mutating func layout<C: WireCoder>(_ c: inout C, _ label: @autoclosure () -> String) throws(C.Failure) {
        try c.i64(&seconds, "\(label()) seconds")
        try c.u32(&nanoseconds, "\(label()) nanoseconds")
        try c.require(nanoseconds < 1_000_000_000, .invalid(field: label()))
    }
}

/// File attributes, 100 bytes on the wire. `dev`+`ino` is the file's identity on the host.
public struct Attr: WireLayout, Equatable, Sendable {
    /// The file lives on a pseudo file system (proc, sysfs, cgroup…): its size is not
    /// the length of its content, and it must not be cached by the client.
    public static let flagPseudo: UInt32 = 1

    public var dev: UInt64
    public var ino: UInt64
    public var size: UInt64
    public var blocks: UInt64
    public var rdev: UInt64
    public var mode: UInt32
    public var nlink: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var blksize: UInt32
    public var flags: UInt32
    public var atime: Timespec
    public var mtime: Timespec
    public var ctime: Timespec

    public init(dev: UInt64 = 0, ino: UInt64 = 0, size: UInt64 = 0, blocks: UInt64 = 0, rdev: UInt64 = 0,
                mode: UInt32 = 0, nlink: UInt32 = 0, uid: UInt32 = 0, gid: UInt32 = 0, blksize: UInt32 = 4096,
                flags: UInt32 = 0, atime: Timespec = .zero, mtime: Timespec = .zero, ctime: Timespec = .zero) {
        self.dev = dev; self.ino = ino; self.size = size; self.blocks = blocks; self.rdev = rdev
        self.mode = mode; self.nlink = nlink; self.uid = uid; self.gid = gid; self.blksize = blksize
        self.flags = flags; self.atime = atime; self.mtime = mtime; self.ctime = ctime
    }

    public var isPseudo: Bool { flags & Attr.flagPseudo != 0 }

    public static var unfilled: Attr { Attr() }

    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&dev, "attr dev"); try c.u64(&ino, "attr ino"); try c.u64(&size, "attr size")
        try c.u64(&blocks, "attr blocks (512-byte units)"); try c.u64(&rdev, "attr rdev")
        try c.u32(&mode, "attr mode (type and permission bits)"); try c.u32(&nlink, "attr nlink")
        try c.u32(&uid, "attr uid"); try c.u32(&gid, "attr gid"); try c.u32(&blksize, "attr blksize")
        try c.u32(&flags, "attr flags (1 = pseudo file system)")
        try atime.layout(&c, "attr atime"); try mtime.layout(&c, "attr mtime"); try ctime.layout(&c, "attr ctime")
    }
}

/// One READDIR entry. `cookie` is where to continue after this entry.
public struct DirEntry: WireLayout, Equatable, Sendable {
    public var cookie: UInt64
    public var ino: UInt64
    public var type: UInt8   // DT_* value
    public var name: [UInt8]
    public var attr: Attr?   // present in READDIR "plus" answers when the entry could be stat'ed

    public init(cookie: UInt64, ino: UInt64, type: UInt8, name: [UInt8], attr: Attr? = nil) {
        self.cookie = cookie; self.ino = ino; self.type = type; self.name = name; self.attr = attr
    }
    public init(cookie: UInt64, ino: UInt64, type: UInt8, name: String, attr: Attr? = nil) {
        self.init(cookie: cookie, ino: ino, type: type, name: Array(name.utf8), attr: attr)
    }

    public static var unfilled: DirEntry { DirEntry(cookie: 0, ino: 0, type: 0, name: []) }

    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&cookie, "entry cookie"); try c.u64(&ino, "entry ino"); try c.u8(&type, "entry d_type")
        try c.bytes16(&name, "entry name", .name, quoted: true)
        var hasAttr = attr != nil
        let note = hasAttr ? "entry has attr" : "entry has no attr"
        try c.bool8(&hasAttr, note, field: "entry.hasAttr")
        if hasAttr {
            var a = attr ?? .unfilled
            try a.layout(&c)
            attr = a
        } else {
            attr = nil
        }
    }
}
