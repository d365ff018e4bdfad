// The qtfs mounts a process sees, from /proc/PID/mountinfo: FUSE mounts of qtfs-fuse
// ("fuse.qtfs", source "SERVER:HOST_PATH") and the kernel module's ("qtfs", source
// HOST_PATH). Each gives the host path that its mount point stands for.
import Glibc

struct MountEntry: Equatable {
    let id: UInt64
    let root: String          // the mounted directory inside its file system ("/" usually)
    let mountPoint: String    // as the process sees it (relative to its root)
    let fstype: String
    let source: String

    var isQtfs: Bool { fstype == "fuse.qtfs" || fstype == "qtfs" }

    /// The host path of the mount point: the source's path plus the mount's own root
    /// (a DPU bind of a directory inside a qtfs mount has a root below "/").
    var hostPath: String? {
        guard isQtfs, let slash = source.firstIndex(of: "/") else { return nil }
        let base = String(source[slash...])
        return root == "/" ? base : HostPath.join(base, String(root.dropFirst()))
    }

    /// The server named in a qtfs-fuse source ("HOST:PORT:/path"), if any.
    var serverInSource: String? {
        guard let slash = source.firstIndex(of: "/"), slash > source.startIndex else { return nil }
        return String(source[..<slash].dropLast())   // without the ':' before the path
    }
}

enum MountInfo {
    /// The entries of /proc/PID/mountinfo.
    static func read(pid: pid_t) throws -> [MountEntry] {
        try readText("/proc/\(pid)/mountinfo").split(separator: "\n").compactMap(parse)
    }

    /// "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
    static func parse(_ line: Substring) -> MountEntry? {
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count >= 10, let id = UInt64(f[0]), let dash = f.firstIndex(of: "-"), dash + 2 < f.count else { return nil }
        return MountEntry(id: id, root: unescape(f[3]), mountPoint: unescape(f[4]),
                          fstype: unescape(f[dash + 1]), source: unescape(f[dash + 2]))
    }

    /// The kernel writes space, tab, newline and backslash as \ooo octal.
    static func unescape(_ s: Substring) -> String {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x5C, i + 3 < b.count,
               let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v); i += 4
            } else {
                out.append(b[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Absolute path strings joined and split without touching the file system.
enum HostPath {
    static func join(_ base: String, _ rel: String) -> String {
        if rel.isEmpty { return base }
        return base == "/" ? "/" + rel : base + "/" + rel
    }

    /// `path` below `dir` ("" for `dir` itself), or nil when it is not inside it.
    static func relative(_ path: String, to dir: String) -> String? {
        if dir == "/" { return String(path.dropFirst()) }
        if path == dir { return "" }
        guard path.hasPrefix(dir + "/") else { return nil }
        return String(path.dropFirst(dir.count + 1))
    }
}
