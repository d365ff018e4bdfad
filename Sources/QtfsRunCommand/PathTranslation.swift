// Where a path a trapped call names really is: resolved as the calling process sees it
// (its root, its working directory), then, when it lands in a qtfs mount, turned into the
// host path that mount stands for. Resolution uses the kernel (openat2 RESOLVE_IN_ROOT on
// the caller's root), so symlinks and ".." mean what they mean to the caller.
import CQtfsSys
import Glibc
import QtfsClient

enum Place: Equatable {
    case local                          // not under a qtfs mount: the call runs on the DPU
    case mountPoint(MountEntry)         // a qtfs mount point itself: a DPU mount-table matter
    case host(path: String, mount: MountEntry)
}

struct PathTranslator {
    let caller: CallerProcess
    let server: ServerAddress

    enum Last { case follow, noFollow, create }

    /// Where `path` is. `.create` resolves the parent (the last name need not exist yet).
    /// A path that does not resolve is `.local`: the kernel then gives the caller its error.
    func place(of path: [UInt8], last: Last) throws -> Place {
        let rootView = try caller.root()
        let absolute = path.first == UInt8(ascii: "/") ? String(decoding: path, as: UTF8.self)
            : HostPath.join(try callerView(of: caller.cwd(), root: rootView), String(decoding: path, as: UTF8.self))
        let (dir, name) = last == .create ? split(absolute) : (absolute, nil)
        let rootFd = try sys("open /proc/\(caller.pid)/root") { open("/proc/\(caller.pid)/root", O_PATH | O_DIRECTORY | O_CLOEXEC) }
        defer { close(rootFd) }
        let flags = O_PATH | O_CLOEXEC | (last == .noFollow ? O_NOFOLLOW : 0) | (name != nil ? O_DIRECTORY : 0)
        let fd = try asCaller { Self.openInRoot(rootFd, dir, flags) }
        guard fd >= 0 else { return .local }
        defer { close(fd) }
        let mountId = try sys("statx mount id") { qtfs_mount_id(fd) }
        guard let entry = try MountInfo.read(pid: caller.pid).first(where: { $0.id == UInt64(mountId) }),
              entry.isQtfs, entry.belongs(to: server), let hostBase = entry.hostPath,
              let seen = try? callerView(of: fdPath(fd), root: rootView),
              var rel = HostPath.relative(seen, to: entry.mountPoint) else { return .local }
        if let name { rel = rel.isEmpty ? name : rel + "/" + name }
        return rel.isEmpty ? .mountPoint(entry) : .host(path: HostPath.join(hostBase, rel), mount: entry)
    }

    /// Whether `path` (absolute, or relative to the caller's cwd) exists as the caller sees
    /// it; the last component is not followed.
    func exists(_ path: [UInt8]) -> Bool {
        guard let rootView = try? caller.root(), let cwd = try? caller.cwd(), let cwdView = try? callerView(of: cwd, root: rootView) else { return false }
        let text = String(decoding: path, as: UTF8.self)
        let absolute = text.hasPrefix("/") ? text : HostPath.join(cwdView, text)
        let rootFd = open("/proc/\(caller.pid)/root", O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFd >= 0 else { return false }
        defer { close(rootFd) }
        guard let fd = try? asCaller({ Self.openInRoot(rootFd, absolute, O_PATH | O_CLOEXEC | O_NOFOLLOW) }) else { return false }
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// Runs a path lookup with the caller's file-system ids and groups (this thread only),
    /// so that it reaches no further than the caller's own call would: a DPU directory the
    /// caller may not search stops it. The supervisor's own ids are back afterwards.
    private func asCaller(_ lookup: () -> Int32) throws -> Int32 {
        let c = try caller.caller()
        guard c.uid != 0 || c.gid != 0 else { return lookup() }   // root: nothing to narrow
        let groups = c.groups.map { gid_t($0) }
        guard qtfs_become(c.uid, c.gid, groups, Int32(groups.count)) == 0 else {
            throw Errno.current(call: "taking the ids of pid \(caller.pid)")
        }
        defer { _ = qtfs_become(0, 0, nil, 0) }
        return lookup()
    }

    /// openat2 with RESOLVE_IN_ROOT fails with EAGAIN when a rename or a mount anywhere on the
    /// system races with a ".." in the path (a symlink such as docker's overlay2/l/X ->
    /// ../ID/diff, while dockerd renames): that is retried, not taken for "not found".
    private static func openInRoot(_ rootFd: Int32, _ path: String, _ flags: Int32) -> Int32 {
        for _ in 0..<100 {
            let fd = qtfs_openat2(rootFd, path, flags, 0, UInt64(RESOLVE_IN_ROOT))
            if fd >= 0 || errno != EAGAIN { return fd }
        }
        return -1
    }

    /// A supervisor-view path as the caller sees it (below its root).
    private func callerView(of path: String, root: String) throws -> String {
        if root == "/" { return path }
        guard let rel = HostPath.relative(path, to: root) else { throw Errno(EXDEV, call: "path outside the caller's root") }
        return "/" + rel
    }

    private func fdPath(_ fd: Int32) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try sys("readlink fd") { readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1) }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// (directory, last name) of an absolute path; trailing slashes ignored.
    private func split(_ path: String) -> (String, String?) {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return (".", String(p)) }
        let dir = slash == p.startIndex ? "/" : String(p[..<slash])
        return (dir, String(p[p.index(after: slash)...]))
    }
}
