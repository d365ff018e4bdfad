// The process whose call was trapped, as the supervisor sees it through /proc: its memory
// (the call's strings and addresses), its root and working directory (paths are resolved
// as it sees them: a daemon in a chroot works), its ids and its descriptors.
import CQtfsSys
import Glibc
import QtfsClient
import QtfsProtocol

final class CallerProcess {
    let pid: pid_t
    /// /proc/PID/status, read at most once per trapped call (ids, Tgid and CapEff all
    /// come from it). One trapped call is handled by one thread, so no lock.
    private var statusLines: [Substring]?

    init(pid: pid_t) { self.pid = pid }

    /// A NUL-terminated string at `addr`, at most `limit` bytes; ENAMETOOLONG beyond.
    func string(at addr: UInt64, limit: Int) throws -> [UInt8] {
        guard addr != 0 else { throw Errno(EFAULT, call: "string argument") }
        var out: [UInt8] = []
        var at = addr
        while out.count <= limit {
            // stop at page ends: the next page may be unmapped
            let chunk = min(4096 - Int(at % 4096), limit + 1 - out.count)
            let piece = try bytes(at: at, count: chunk)
            if let nul = piece.firstIndex(of: 0) { return out + piece[..<nul] }
            out += piece
            at += UInt64(chunk)
        }
        throw Errno(ENAMETOOLONG, call: "string argument")
    }

    /// Exactly `count` bytes of its memory at `addr` (EFAULT when they are not mapped).
    func bytes(at addr: UInt64, count: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { qtfs_read_caller(pid, addr, $0.baseAddress, count) }
        guard n == count else { throw Errno(n < 0 ? errno : EFAULT, call: "reading the caller's memory") }
        return buf
    }

    /// Its root directory and working directory as paths in the supervisor's view.
    func root() throws -> String { try link("root") }
    func cwd() throws -> String { try link("cwd") }

    private func link(_ name: String) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try sys("readlink /proc/\(pid)/\(name)") { readlink("/proc/\(pid)/\(name)", &buf, buf.count - 1) }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Its effective ids and groups (the server acts as them).
    func caller() throws -> Caller {
        let uid = try numbers("Uid"), gid = try numbers("Gid")
        guard uid.count >= 2, gid.count >= 2 else { throw Errno(ESRCH, call: "/proc/\(pid)/status") }
        return Caller(uid: uid[1], gid: gid[1], pid: UInt32(pid), groups: try numbers("Groups"))
    }

    /// The id of the process the trapped thread belongs to (Tgid).
    func processId() throws -> pid_t {
        guard let tgid = try field("Tgid").flatMap({ pid_t($0) }) else { throw Errno(ESRCH, call: "/proc/\(pid)/status") }
        return tgid
    }

    /// Whether it has left the mount namespace qtfs-run and its command started in
    /// (unshare(CLONE_NEWNS), clone with CLONE_NEWNS): its mounts are then meant to be
    /// private to that namespace and to end with it, which a host mount would not do.
    func inMountNamespaceOfItsOwn() throws -> Bool {
        try link("ns/mnt") != Self.startingMountNamespace
    }

    private static let startingMountNamespace: String = {
        var buf = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/self/ns/mnt", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }()

    /// Whether it holds CAP_SYS_ADMIN (mount needs it).
    func canMount() throws -> Bool {
        guard let caps = try field("CapEff").flatMap({ UInt64($0, radix: 16) }) else { return false }
        return caps & (1 << 21) != 0
    }

    /// The value of a "Key:\tvalue" line of /proc/PID/status, leading blanks dropped.
    private func field(_ key: String) throws -> Substring? {
        if statusLines == nil { statusLines = try readText("/proc/\(pid)/status").split(separator: "\n") }
        guard let line = statusLines!.first(where: { $0.hasPrefix(key + ":") }) else { return nil }
        return line.dropFirst(key.count + 1).trimmingLeadingSpace
    }

    private func numbers(_ key: String) throws -> [UInt32] {
        (try field(key) ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
    }

    /// A duplicate of its descriptor `fd` (the same open file: what we do to it, it sees).
    func descriptor(_ fd: Int32) throws -> Int32 {
        let leader = try processId()   // the trapped thread may not lead its process; pidfds name processes
        let pidfd = try sys("pidfd_open") { qtfs_pidfd_open(leader) }
        defer { close(pidfd) }
        return try sys("pidfd_getfd") { qtfs_pidfd_getfd(pidfd, fd) }
    }
}

func readText(_ path: String) throws -> String {
    let fd = try sys("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = try sys("read \(path)") { read(fd, &buf, buf.count) }
        if n == 0 { return String(decoding: out, as: UTF8.self) }
        out += buf[..<n]
    }
}

extension Substring {
    var trimmingLeadingSpace: Substring { drop(while: { $0 == " " || $0 == "\t" }) }
}
