// Process-level libc helpers for the qtfs-fuse executable, kept here because that target
// imports the FUSE headers, whose _GNU_SOURCE view of libc clashes with Swift's Glibc.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

public enum Sys {
    public static func errorText(_ err: Int32) -> String { String(cString: strerror(err)) }

    /// The credentials of this process, for MOUNT.
    public static func currentCaller() -> Caller {
        Caller(uid: getuid(), gid: getgid(), pid: UInt32(getpid()))
    }
    public static var isRoot: Bool { geteuid() == 0 }

    public static func dup(_ s: String) -> UnsafeMutablePointer<CChar> { strdup(s)! }

    /// Whole small file (procfs status files), or nil.
    public static func readSmallFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: 4096)
        let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        out.removeSubrange(n...)
        return out
    }

    /// The thread-group id (process id) of thread `tid`, read from `<procRoot>/<tid>/status`.
    public static func tgid(of tid: Int32, procRoot: String) -> Int32? {
        guard let s = readSmallFile("\(procRoot)/\(tid)/status") else { return nil }
        for line in s.split(separator: UInt8(ascii: "\n")) where line.starts(with: Array("Tgid:".utf8)) {
            let digits = line.dropFirst(5).filter { $0 >= 48 && $0 <= 57 }
            return Int32(String(decoding: digits, as: UTF8.self))
        }
        return nil
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The text of symlink `path`, or nil.
    public static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buf, buf.count - 1)
        return n < 0 ? nil : String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func ignoreSigpipe() { signal(SIGPIPE, SIG_IGN) }
    public static func exit(_ code: Int32) -> Never { Glibc.exit(code) }
    public static func printError(_ s: String) {
        var line = s
        line += "\n"
        _ = line.withCString { fputs($0, stderr) }
    }
}

/// Backgrounding after the mount is up, reporting success or failure to the parent so
/// mount(8) and shells see the real exit status.
public enum Daemon {
    /// Forks. The parent waits for the child's one-byte status and exits with it; the
    /// child returns the pipe it must report on.
    public static func fork() -> Int32 {
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else { return -1 }
        let pid = Glibc.fork()
        if pid < 0 { return -1 }
        if pid > 0 {
            close(p[1])
            var status: UInt8 = 1
            let n = read(p[0], &status, 1)
            Glibc.exit(n == 1 ? Int32(status) : 1)
        }
        close(p[0])
        setsid()
        return p[1]
    }

    /// In the child: report `status`, and once mounted detach from the terminal.
    public static func report(_ fd: Int32, status: UInt8) {
        guard fd >= 0 else { return }
        var s = status
        _ = write(fd, &s, 1)
        close(fd)
        if status == 0 {
            chdir("/")
            let null = open("/dev/null", O_RDWR)
            if null >= 0 {
                dup2(null, 0); dup2(null, 1); dup2(null, 2)
                if null > 2 { close(null) }
            }
        }
    }
}

extension Sys {
    public static func cLength(_ s: UnsafePointer<CChar>) -> Int { strlen(s) }
}
