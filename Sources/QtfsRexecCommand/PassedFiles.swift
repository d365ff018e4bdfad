// Open regular files above fd 2 that live under a qtfs-fuse mount of the same server are
// reopened on the host at the same number, flags and offset (upstream rexec does this).
// Other inherited fds stay on the DPU (docs/rexec.md).
import Glibc
import QtfsClient
import QtfsProtocol

enum PassedFiles {
    static func find(server: ServerAddress) -> [RexecFile] {
        let mounts = qtfsMounts(of: server)
        guard !mounts.isEmpty, let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        let own = dirfd(dir)
        var files: [RexecFile] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let fd = Int32(name), fd > 2, fd != own, let f = file(fd, mounts) else { continue }
            files.append(f)
        }
        return files
    }

    private static func file(_ fd: Int32, _ mounts: [(local: String, host: String)]) -> RexecFile? {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let path = link("/proc/self/fd/\(fd)") else { return nil }
        guard let m = mounts.first(where: { path == $0.local || path.hasPrefix($0.local + "/") }) else { return nil }
        let rest = path.dropFirst(m.local.count)
        let host = m.host == "/" ? (rest.isEmpty ? "/" : String(rest)) : m.host + rest
        let flags = fcntl(fd, F_GETFL) & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)
        let offset = lseek(fd, 0, SEEK_CUR)
        return RexecFile(fd: UInt32(fd), flags: UInt32(bitPattern: flags), offset: UInt64(max(offset, 0)), path: Array(host.utf8))
    }

    /// (mount point, host path) of each fuse.qtfs mount whose source names `server`
    /// (the default fsname is SERVER:HOST_PATH).
    static func qtfsMounts(of server: ServerAddress) -> [(local: String, host: String)] {
        guard let f = fopen("/proc/self/mountinfo", "re") else { return [] }
        defer { fclose(f) }
        var out: [(String, String)] = []
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        let prefix = "\(server):"
        while getline(&line, &cap, f) > 0, let line {
            let fields = String(cString: line).split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count, fields[dash + 1] == "fuse.qtfs",
                  fields[dash + 2].hasPrefix(prefix) else { continue }
            out.append((unescape(String(fields[4])), String(fields[dash + 2].dropFirst(prefix.count))))
        }
        return out
    }

    /// mountinfo writes space, tab, newline and backslash as \\ooo.
    private static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = [UInt8](), b = Array(s.utf8), i = 0
        while i < b.count {
            if b[i] == 0x5c, i + 3 < b.count, let v = UInt8(String(decoding: b[i + 1...i + 3], as: UTF8.self), radix: 8) {
                out.append(v); i += 4
            } else { out.append(b[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func link(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buf, 4096)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
