// Absolute host paths with symlinks in them, such as Debian's /var/run -> /run, in MOUNT
// (attaching an export) and in HOST_MOUNT/HOST_UMOUNT: the symlinks are followed one at a
// time, and only while each location looked at lies inside an export (docs/server.md,
// "Symlinks in a host path"). Requests with export-relative paths still refuse symlinks
// (ELOOP); this runs only when the confined open of the path as given found one.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

enum HostPath {
    /// As the kernel's MAXSYMLINKS.
    static let maxLinks = 40

    /// The export holding `path` (absolute) and the path beneath it: as given when it has no
    /// symlink in it, else where its symlinks lead (`follow`). Shape errors as PathCheck's;
    /// other errors (ENOENT...) are left to the caller's own confined open.
    static func locate(_ exports: Exports, _ caller: Caller, _ path: [UInt8]) throws -> (Export, [UInt8]) {
        let (e, rel) = try exports.locate(path)
        _ = try PathCheck.validate(rel)
        if rel.isEmpty { return (e, rel) }
        do {
            _ = try Credentials.asCaller(caller, squash: e.rootSquash) { close(try PathCheck.openBeneath(e.fd, rel[...], flags: 0)) }
        } catch let error as Errno where error.code == ELOOP {
            return try follow(exports, caller, path)
        } catch {}
        return (e, rel)
    }

    /// The export and export-relative path `path` (absolute, its shape already checked)
    /// leads to. EACCES when a step leaves every export, ELOOP after `maxLinks` symlinks.
    static func follow(_ exports: Exports, _ caller: Caller, _ path: [UInt8]) throws -> (Export, [UInt8]) {
        var pending = Array(components(path).reversed())   // a stack: the next component last
        var done: [[UInt8]] = []                           // symlink-free, from "/"
        var links = 0
        while let c = pending.popLast() {
            if c == [0x2E] { continue }
            if c == [0x2E, 0x2E] { _ = done.popLast(); continue }   // `done` has no symlink: ".." is lexical
            done.append(c)
            guard let target = try symlinkTarget(exports, caller, joined(done)) else { continue }
            done.removeLast()
            links += 1
            guard links <= maxLinks else { throw Errno(ELOOP) }
            if target.first == 0x2F { done = [] }
            pending += components(target).reversed()
        }
        return try exports.locate(joined(done))
    }

    /// The contents of the symlink at `path`, nil when it is no symlink, an export's root or
    /// a directory above one (the way down to an export is not looked at). Its parent has no
    /// symlink in it (built by `follow`), so the confined resolution holds.
    private static func symlinkTarget(_ exports: Exports, _ caller: Caller, _ path: [UInt8]) throws -> [UInt8]? {
        guard let (e, rel) = try? exports.locate(path) else {
            if exports.all.contains(where: { isAbove(path, $0.path) }) { return nil }
            throw Errno(EACCES)
        }
        if rel.isEmpty { return nil }
        return try Credentials.asCaller(caller, squash: e.rootSquash) {
            let r = try PathCheck.resolve(e, rel)
            var st = stat()
            try r.withName { n in try sys("fstatat") { fstatat(r.dir, n, &st, AT_SYMLINK_NOFOLLOW) } }
            guard Stat.type(st.st_mode) == S_IFLNK else { return nil }
            return try r.withName { try Backend.readlink(r.dir, $0) }
        }
    }

    /// Whether `path` is a proper ancestor of the export root `root`.
    static func isAbove(_ path: [UInt8], _ root: String) -> Bool {
        let r = Array(root.utf8)
        return r.count > path.count && r.starts(with: path) && (path == [0x2F] || r[path.count] == 0x2F)
    }

    static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: 0x2F).map(Array.init)
    }

    static func joined(_ parts: [[UInt8]]) -> [UInt8] {
        parts.isEmpty ? [0x2F] : parts.flatMap { [0x2F] + $0 }
    }
}
