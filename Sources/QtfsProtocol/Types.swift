// Value types that appear inside several messages.

/// Implemented by every request and response body.
public protocol WirePayload: Equatable, Sendable {
    func encode(into w: inout WireWriter)
    init(from r: inout WireReader) throws
}

extension WirePayload {
    /// Decodes a whole payload, rejecting trailing bytes.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws -> Self {
        var r = WireReader(payload)
        let v = try Self(from: &r)
        try r.expectEnd()
        return v
    }
    public static func decode(_ payload: [UInt8]) throws -> Self {
        try payload.withUnsafeBytes { try decode($0) }
    }
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        encode(into: &w)
        return w.bytes
    }
}

/// Who asks: the server performs the operation with these credentials.
public struct Caller: Equatable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: UInt32
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, pid: UInt32 = 0, groups: [UInt32] = []) {
        self.uid = uid; self.gid = gid; self.pid = pid; self.groups = groups
    }
    public static let root = Caller(uid: 0, gid: 0)

    public func encode(into w: inout WireWriter) {
        w.u32(uid, "caller uid")
        w.u32(gid, "caller gid")
        w.u32(pid, "caller pid (informational)")
        w.u16(UInt16(min(groups.count, Wire.maxGroups)), "supplementary group count")
        for g in groups.prefix(Wire.maxGroups) { w.u32(g, "supplementary group") }
    }
    public init(from r: inout WireReader) throws {
        uid = try r.u32("caller.uid")
        gid = try r.u32("caller.gid")
        pid = try r.u32("caller.pid")
        let n = Int(try r.u16("caller.ngroups"))
        guard n <= Wire.maxGroups else { throw WireError.tooLong(field: "caller.groups", length: n, limit: Wire.maxGroups) }
        groups = []
        groups.reserveCapacity(n)
        for _ in 0..<n { groups.append(try r.u32("caller.group")) }
    }
}

/// A location: an export (from MOUNT) and a path relative to its root. The path has no
/// leading '/', and no empty, "." or ".." component; "" is the export root itself.
public struct Target: Equatable, Sendable {
    public var export: UInt32
    public var path: [UInt8]

    public init(export: UInt32, path: [UInt8]) { self.export = export; self.path = path }
    public init(export: UInt32, _ path: String) { self.export = export; self.path = Array(path.utf8) }

    public var pathString: String { String(decoding: path, as: UTF8.self) }

    public func encode(into w: inout WireWriter, _ role: String = "") {
        w.u32(export, "\(role)export id")
        w.bytes16(path, "\(role)path \"\(pathString)\"")
    }
    public init(from r: inout WireReader) throws {
        export = try r.u32("target.export")
        path = try r.bytes16("path", limit: Wire.maxPath)
    }
}

public struct Timespec: Equatable, Sendable {
    public var seconds: Int64
    public var nanoseconds: UInt32
    public init(seconds: Int64, nanoseconds: UInt32) { self.seconds = seconds; self.nanoseconds = nanoseconds }
    public static let zero = Timespec(seconds: 0, nanoseconds: 0)

    func encode(into w: inout WireWriter, _ label: String) {
        w.i64(seconds, "\(label) seconds")
        w.u32(nanoseconds, "\(label) nanoseconds")
    }
    init(from r: inout WireReader, _ label: String) throws {
        seconds = try r.i64(label)
        nanoseconds = try r.u32(label)
        guard nanoseconds < 1_000_000_000 else { throw WireError.invalid(field: label) }
    }
}

/// File attributes, 100 bytes on the wire. `dev`+`ino` is the file's identity on the host.
public struct Attr: Equatable, Sendable {
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

    public func encode(into w: inout WireWriter) {
        w.u64(dev, "attr dev"); w.u64(ino, "attr ino"); w.u64(size, "attr size")
        w.u64(blocks, "attr blocks (512-byte units)"); w.u64(rdev, "attr rdev")
        w.u32(mode, "attr mode (type and permission bits)"); w.u32(nlink, "attr nlink")
        w.u32(uid, "attr uid"); w.u32(gid, "attr gid"); w.u32(blksize, "attr blksize")
        w.u32(flags, "attr flags (1 = pseudo file system)")
        atime.encode(into: &w, "attr atime"); mtime.encode(into: &w, "attr mtime"); ctime.encode(into: &w, "attr ctime")
    }
    public init(from r: inout WireReader) throws {
        dev = try r.u64("attr.dev"); ino = try r.u64("attr.ino"); size = try r.u64("attr.size")
        blocks = try r.u64("attr.blocks"); rdev = try r.u64("attr.rdev")
        mode = try r.u32("attr.mode"); nlink = try r.u32("attr.nlink")
        uid = try r.u32("attr.uid"); gid = try r.u32("attr.gid"); blksize = try r.u32("attr.blksize")
        flags = try r.u32("attr.flags")
        atime = try Timespec(from: &r, "attr.atime"); mtime = try Timespec(from: &r, "attr.mtime")
        ctime = try Timespec(from: &r, "attr.ctime")
    }
}

/// One READDIR entry. `cookie` is where to continue after this entry.
public struct DirEntry: Equatable, Sendable {
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

    public func encode(into w: inout WireWriter) {
        w.u64(cookie, "entry cookie"); w.u64(ino, "entry ino"); w.u8(type, "entry d_type")
        w.bytes16(name, "entry name \"\(String(decoding: name, as: UTF8.self))\"")
        if let attr {
            w.u8(1, "entry has attr")
            attr.encode(into: &w)
        } else {
            w.u8(0, "entry has no attr")
        }
    }
    public init(from r: inout WireReader) throws {
        cookie = try r.u64("entry.cookie"); ino = try r.u64("entry.ino"); type = try r.u8("entry.type")
        name = try r.bytes16("name", limit: Wire.maxName)
        switch try r.u8("entry.hasAttr") {
        case 0: attr = nil
        case 1: attr = try Attr(from: &r)
        default: throw WireError.invalid(field: "entry.hasAttr")
        }
    }
}
