// Whether a resolved location lies at or beneath a whitelisted one. The check walks from
// the already-resolved parent directory fd up through "..", comparing (st_dev, st_ino)
// with the whitelisted places held open: no path string is compared, so `..`, symlinks,
// bind mounts and renames cannot make a location look like another.
import Glibc
internal import CQtfsSys

extension Whitelist {
    /// Deepest directory walk; deeper trees than this are refused.
    static let maxDepth = 2048

    /// `dir`: the resolved parent fd; `name`: the last component (nil: `dir` itself).
    func allows(_ kind: Kind, dir: Int32, name: UnsafePointer<CChar>?) -> Bool {
        if Whitelist.matches(places(kind, refresh: false), dir, name) { return true }
        // A miss may be a place created or replaced since it was resolved: look again once.
        return Whitelist.matches(places(kind, refresh: true), dir, name)
    }

    private static func matches(_ places: [Place], _ dir: Int32, _ name: UnsafePointer<CChar>?) -> Bool {
        let ids = Set(places.filter { $0.fd >= 0 }.map { Identity(dev: $0.dev, ino: $0.ino) })
        if ids.isEmpty { return false }
        var st = stat()
        if let name, fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, ids.contains(Identity(st)) { return true }
        var fd = dir, owned = false
        defer { if owned { close(fd) } }
        for _ in 0..<maxDepth {
            guard fstat(fd, &st) == 0 else { return false }
            let here = Identity(st)
            if ids.contains(here) { return true }
            let up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard up >= 0 else { return false }
            var ust = stat()
            if fstat(up, &ust) != 0 || Identity(ust) == here { close(up); return false }   // the root
            if owned { close(fd) }
            fd = up; owned = true
        }
        return false
    }

    struct Identity: Hashable {
        let dev: UInt64
        let ino: UInt64
        init(dev: UInt64, ino: UInt64) { self.dev = dev; self.ino = ino }
        init(_ st: stat) { dev = UInt64(st.st_dev); ino = UInt64(st.st_ino) }
    }
}
