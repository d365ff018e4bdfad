// What a HOST_MOUNT asks for, read the way the kernel reads mount(2)'s arguments, and which
// of its strings name host paths (docs/server.md, "Host mounts"). Pure functions: the
// handler (HandlersHostMount.swift) confines and checks what these find.
import Glibc

/// mount(2)'s operations, chosen from the flags in the kernel's order (path_mount).
enum HostMountOperation: Equatable {
    case reconfigure   // MS_REMOUNT (with MS_BIND: the mount's flags only): the target alone
    case bind          // MS_BIND (MS_REC: rbind): the source is a host path
    case propagation   // MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE (MS_REC): the target alone
    case move          // MS_MOVE: the source is a host path (a mount)
    case create        // a new mount of `fstype`; the source is a name, not a path

    static let magicMask: UInt64 = 0xFFFF_0000
    static let magicValue: UInt64 = 0xC0ED_0000
    static let propagationFlags = UInt64(MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

    /// The flags without the old magic number in the high half (the kernel drops it too).
    static func effectiveFlags(_ flags: UInt64) -> UInt64 {
        flags & magicMask == magicValue ? flags & ~magicMask : flags
    }

    init(flags raw: UInt64) {
        let flags = HostMountOperation.effectiveFlags(raw)
        if flags & UInt64(MS_REMOUNT) != 0 { self = .reconfigure }
        else if flags & UInt64(MS_BIND) != 0 { self = .bind }
        else if flags & HostMountOperation.propagationFlags != 0 { self = .propagation }
        else if flags & UInt64(MS_MOVE) != 0 { self = .move }
        else { self = .create }
    }

    /// Whether the source names a host path the server must confine.
    var sourceIsHostPath: Bool { self == .bind || self == .move }
}

enum HostMountTypes {
    /// File systems a new host mount may have: none reads a device or a path from its
    /// source (that is a free-form name), so nothing outside the exports can be mounted.
    /// Block-device file systems (ext4, xfs, ...) and network ones are refused: their
    /// source cannot be confined to an export.
    static let allowed: Set<String> = ["tmpfs", "ramfs", "overlay", "proc", "sysfs", "cgroup", "cgroup2",
                                       "mqueue", "devpts"]
    static var allowedList: String { allowed.sorted().joined(separator: " ") }
}

/// The host paths inside overlayfs's option string, split and unescaped as overlayfs does:
/// options are separated by unescaped ',', lowerdir's layers by unescaped ':' ("::" starts
/// the data-only layers), and a backslash makes the next character literal.
enum OverlayOptions {
    static let pathKeys: Set<String> = ["lowerdir", "upperdir", "workdir", "lowerdir+", "datadir+"]
    /// Keys whose directories overlayfs writes to.
    static let writtenKeys: Set<String> = ["upperdir", "workdir"]

    static func paths(_ data: [UInt8]) -> [(key: String, path: [UInt8])] {
        var out: [(key: String, path: [UInt8])] = []
        for option in split(data[...], on: UInt8(ascii: ",")) {
            guard let eq = option.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: option[..<eq], as: UTF8.self)
            guard pathKeys.contains(key) else { continue }
            let value = option[(eq + 1)...]
            let layers = key == "lowerdir" ? split(value, on: UInt8(ascii: ":")) : [value]
            for layer in layers where !layer.isEmpty { out.append((key, unescape(layer))) }
        }
        return out
    }

    /// Splits on `separator` where it is not escaped; the escapes stay for `unescape`.
    static func split(_ s: ArraySlice<UInt8>, on separator: UInt8) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = [], start = s.startIndex, i = s.startIndex
        while i < s.endIndex {
            if s[i] == UInt8(ascii: "\\") { i += 2; continue }
            if s[i] == separator { parts.append(s[start..<i]); start = i + 1 }
            i += 1
        }
        parts.append(s[start..<s.endIndex])
        return parts
    }

    /// Drops each backslash and keeps the character after it literally.
    static func unescape(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = [], escaped = false
        for b in s {
            if b == UInt8(ascii: "\\") && !escaped { escaped = true; continue }
            out.append(b); escaped = false
        }
        return out
    }
}
