// Confinement by resolution: a client path is checked for shape here, then its parent
// directory is opened beneath the export with openat2(RESOLVE_BENEATH | NO_SYMLINKS |
// NO_MAGICLINKS), and the last component is operated on with *at calls that do not
// follow symlinks. No string comparison decides what is inside the export.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

/// A resolved target: a directory fd and a last component ("." for the export root).
struct Resolved: ~Copyable {
    let dir: Int32
    let name: [CChar]          // NUL-terminated
    private let ownsDir: Bool

    init(dir: Int32, name: [CChar], ownsDir: Bool) { self.dir = dir; self.name = name; self.ownsDir = ownsDir }
    deinit { if ownsDir { close(dir) } }

    var isRoot: Bool { name.count == 2 && name[0] == 0x2E }
    @discardableResult
    func withName<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try name.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}

enum PathCheck {
    static let resolveFlags = UInt64(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

    /// Validates a relative path and returns the index of its last '/', if any.
    /// EINVAL for a leading '/', empty, "." or ".." components; ENAMETOOLONG for length.
    static func validate(_ path: [UInt8]) throws -> Int? {
        if path.isEmpty { return nil }
        guard path.count <= Wire.maxPath else { throw Errno(ENAMETOOLONG) }
        var start = 0, lastSlash: Int? = nil
        for i in 0...path.count where i == path.count || path[i] == 0x2F {
            try component(path[start..<i])
            if i < path.count { lastSlash = i }
            start = i + 1
        }
        return lastSlash
    }

    static func component(_ c: ArraySlice<UInt8>) throws {
        if c.isEmpty || c.elementsEqual([0x2E]) || c.elementsEqual([0x2E, 0x2E]) { throw Errno(EINVAL) }
        if c.contains(0) { throw Errno(EINVAL) }
        if c.count > Wire.maxName { throw Errno(ENAMETOOLONG) }
    }

    /// Opens `path` (relative, validated) beneath `root` as an O_PATH fd with `flags` added.
    static func openBeneath(_ root: Int32, _ path: ArraySlice<UInt8>, flags: Int32 = O_DIRECTORY) throws -> Int32 {
        try withCString(path) { cpath in
            var tries = 0
            while true {
                let fd = qtfs_openat2(root, cpath, O_PATH | O_CLOEXEC | flags, 0, resolveFlags)
                if fd >= 0 { return fd }
                let e = errno
                if e == EINTR || (e == EAGAIN && tries < 8) { tries += 1; continue }
                throw Errno(e == EXDEV ? EACCES : e)
            }
        }
    }

    /// Resolves a target to (parent directory fd, last component).
    static func resolve(_ export: Export, _ path: [UInt8]) throws -> Resolved {
        guard !path.isEmpty else { return Resolved(dir: export.fd, name: [0x2E, 0], ownsDir: false) }
        let slash = try validate(path)
        let nameStart = slash.map { $0 + 1 } ?? 0
        let name = path[nameStart...].map { CChar(bitPattern: $0) } + [0]
        guard let slash else { return Resolved(dir: export.fd, name: name, ownsDir: false) }
        let dir = try openBeneath(export.fd, path[..<slash])
        return Resolved(dir: dir, name: name, ownsDir: true)
    }
}
