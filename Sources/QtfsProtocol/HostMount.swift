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

    public static var unfilled: HostMountRequest {
        HostMountRequest(caller: .unfilled, flags: 0, target: [], source: [], fstype: [], data: [])
    }

    // An overlong target or source is EPROTO, not ENAMETOOLONG: their limits name the field.
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c)
        try c.u64(&flags, "mount(2) flags (MS_*)")
        try c.bytes16(&target, "target: absolute host path", TextLimit(Wire.maxPath, field: "target"))
        try c.bytes16(&source, "source: host path for bind/move, else as given", TextLimit(Wire.maxPath, field: "source"))
        try c.bytes16(&fstype, "file system type, may be empty", TextLimit(Wire.maxName, field: "fstype"))
        try c.bytes16(&data, "options, may be empty", TextLimit(Self.maxData, field: "data"))
        try c.require(target.first == UInt8(ascii: "/"), .invalid(field: "target"))
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

    public static var unfilled: HostUmountRequest { HostUmountRequest(caller: .unfilled, flags: 0, target: []) }

    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c)
        try c.u32(&flags, "MNT_FORCE 1, MNT_DETACH 2, UMOUNT_NOFOLLOW 8")
        try c.bytes16(&target, "target: absolute host path", TextLimit(Wire.maxPath, field: "target"))
        try c.require(flags & ~Self.allowedFlags == 0, .invalid(field: "flags"))
        try c.require(target.first == UInt8(ascii: "/"), .invalid(field: "target"))
    }
}
