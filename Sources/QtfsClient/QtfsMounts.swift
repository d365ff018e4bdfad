// The qtfs mounts a process sees, from /proc/PID/mountinfo: FUSE mounts of qtfs-fuse
// ("fuse.qtfs", source "SERVER:HOST_PATH") and the kernel module's ("qtfs", source
// HOST_PATH). Each gives the host path that its mount point stands for.
import Glibc
import QtfsSystem

public struct MountEntry: Equatable, Sendable {
    public let id: UInt64
    public let root: String          // the mounted directory inside its file system ("/" usually)
    public let mountPoint: String    // as the process sees it (relative to its root)
    public let fstype: String
    public let source: String

    public var isQtfs: Bool { fstype == "fuse.qtfs" || fstype == "qtfs" }

    /// The host path of the mount point: the source's path plus the mount's own root
    /// (a DPU bind of a directory inside a qtfs mount has a root below "/").
    public var hostPath: String? {
        guard isQtfs, let slash = source.firstIndex(of: "/") else { return nil }
        let base = String(source[slash...])
        return root == "/" ? base : HostPath.join(base, String(root.dropFirst()))
    }

    /// Whether this mount may be served by `server`: a qtfs-fuse source names its server (one
    /// that is not ours is left alone; host names may differ, so the port decides); the
    /// kernel module's source names none.
    public func belongs(to server: ServerAddress) -> Bool {
        guard let named = serverInSource, let a = ServerAddress.parse(named, defaultPort: server.port) else { return true }
        return a.port == server.port
    }

    /// The server named in a qtfs-fuse source ("HOST:PORT:/path"), if any.
    public var serverInSource: String? {
        guard let slash = source.firstIndex(of: "/"), slash > source.startIndex else { return nil }
        return String(source[..<slash].dropLast())   // without the ':' before the path
    }
}

public enum MountInfo {
    /// The entries of /proc/PID/mountinfo.
    public static func read(pid: pid_t) throws -> [MountEntry] {
        try read(path: "/proc/\(pid)/mountinfo")
    }

    /// The entries of this process's own mount table.
    public static func mine() throws -> [MountEntry] { try read(path: "/proc/self/mountinfo") }

    private static func read(path: String) throws -> [MountEntry] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Errno.current(call: "open \(path)") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n: Int
            do { n = try sys("read") { Glibc.read(fd, &buf, buf.count) } } catch let e as Errno {
                throw Errno(e.code, call: "read \(path)")
            }
            if n == 0 { break }
            out += buf[..<n]
        }
        return String(decoding: out, as: UTF8.self).split(separator: "\n").compactMap(parse)
    }

    /// "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
    public static func parse(_ line: Substring) -> MountEntry? {
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count >= 10, let id = UInt64(f[0]), let dash = f.firstIndex(of: "-"), dash + 2 < f.count else { return nil }
        return MountEntry(id: id, root: unescape(f[3]), mountPoint: unescape(f[4]),
                          fstype: unescape(f[dash + 1]), source: unescape(f[dash + 2]))
    }

    /// The kernel writes space, tab, newline and backslash as \ooo octal.
    public static func unescape(_ s: Substring) -> String {
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
public enum HostPath {
    public static func join(_ base: String, _ rel: String) -> String {
        if rel.isEmpty { return base }
        return base == "/" ? "/" + rel : base + "/" + rel
    }

    /// `path` below `dir` ("" for `dir` itself), or nil when it is not inside it.
    public static func relative(_ path: String, to dir: String) -> String? {
        if dir == "/" { return String(path.dropFirst()) }
        if path == dir { return "" }
        guard path.hasPrefix(dir + "/") else { return nil }
        return String(path.dropFirst(dir.count + 1))
    }
}
