// Mounts made on the host for a process under qtfs-run (docs/protocol.md, "Host mounts";
// docs/offload.md). Paths are absolute host paths: the DPU side has already translated its
// own paths through the qtfs mount they lie in.

/// HOST_MOUNT: mount(2) on the host as `caller`. `target`, and `source` when `flags` has
/// MS_BIND or MS_MOVE, are host paths the server confines to its exports; for other mounts
/// `source` is passed as given (a name like "overlay" or "tmpfs", or empty). `data` is the
/// option string, with overlay's lowerdir/upperdir/workdir already host paths.
public struct HostMountRequest: WirePayload, Equatable {
    public static let maxData = 4095
    public var caller: Caller
    public var flags: UInt64
    public var target: [UInt8]
    public var source: [UInt8]
    public var fstype: [UInt8]
    public var data: [UInt8]

    public init(caller: Caller, flags: UInt64, target: [UInt8], source: [UInt8], fstype: [UInt8], data: [UInt8]) {
        self.caller = caller; self.flags = flags; self.target = target
        self.source = source; self.fstype = fstype; self.data = data
    }

    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w)
        w.u64(flags, "mount(2) flags (MS_*)")
        w.bytes16(target, "target: absolute host path")
        w.bytes16(source, "source: host path for bind/move, else as given")
        w.bytes16(fstype, "file system type, may be empty")
        w.bytes16(data, "options, may be empty")
    }

    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r)
        flags = try r.u64("flags")
        target = try r.bytes16("target", limit: Wire.maxPath)
        source = try r.bytes16("source", limit: Wire.maxPath)
        fstype = try r.bytes16("fstype", limit: Wire.maxName)
        data = try r.bytes16("data", limit: Self.maxData)
        guard target.first == UInt8(ascii: "/") else { throw WireError.invalid(field: "target") }
    }
}

/// HOST_UMOUNT: umount2(2) of a host path as `caller`; `flags` are MNT_FORCE (1),
/// MNT_DETACH (2) and UMOUNT_NOFOLLOW (8), nothing else.
public struct HostUmountRequest: WirePayload, Equatable {
    public static let allowedFlags: UInt32 = 1 | 2 | 8
    public var caller: Caller
    public var flags: UInt32
    public var target: [UInt8]

    public init(caller: Caller, flags: UInt32, target: [UInt8]) {
        self.caller = caller; self.flags = flags; self.target = target
    }

    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w)
        w.u32(flags, "MNT_FORCE 1, MNT_DETACH 2, UMOUNT_NOFOLLOW 8")
        w.bytes16(target, "target: absolute host path")
    }

    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r)
        flags = try r.u32("flags")
        target = try r.bytes16("target", limit: Wire.maxPath)
        guard flags & ~Self.allowedFlags == 0 else { throw WireError.invalid(field: "flags") }
        guard target.first == UInt8(ascii: "/") else { throw WireError.invalid(field: "target") }
    }
}
