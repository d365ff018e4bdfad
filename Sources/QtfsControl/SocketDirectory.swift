// Where control sockets live: /run/qtfs (QTFS_CONTROL_DIR overrides it, for tests and
// unprivileged runs), one socket per process named ROLE-PID.sock.
import Glibc

public enum SocketDirectory {
    public static let defaultPath = "/run/qtfs"
    public static let environmentKey = "QTFS_CONTROL_DIR"

    public static var path: String {
        if let p = getenv(environmentKey), p.pointee != 0 { return String(cString: p) }
        return defaultPath
    }

    public static func socketPath(role: String, pid: Int32 = getpid(), in dir: String = path) -> String {
        "\(dir)/\(role)-\(pid).sock"
    }

    /// The component name of a socket file ("server-1234" for server-1234.sock).
    public static func componentName(ofSocket file: String) -> String? {
        guard file.hasSuffix(".sock") else { return nil }
        let name = String(file.dropLast(5))
        guard let dash = name.lastIndex(of: "-"), Int32(name[name.index(after: dash)...]) != nil else { return nil }
        return name
    }

    /// The last component of a socket path ("server-1234.sock" for /run/qtfs/server-1234.sock).
    public static func fileName(_ path: String) -> String {
        String(path[(path.lastIndex(of: "/").map(path.index(after:)) ?? path.startIndex)...])
    }

    /// The pid part of a component name.
    public static func pid(ofComponent name: String) -> Int32? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        return Int32(name[name.index(after: dash)...])
    }

    /// Removes control sockets nothing listens on (their process was killed with SIGKILL or
    /// crashed and could not remove its own), so that qtinfo does not list them forever.
    /// The pid in a socket's name is not enough to decide: it may live in another pid
    /// namespace sharing this directory (then its socket still answers), or the pid may
    /// have been reused (then it exists but nothing listens). Returns the names removed.
    static func removeStale(in dir: String) -> [String] {
        (entries(in: dir) ?? []).filter { file in
            let path = "\(dir)/\(file)"
            return isStale(file: file, path: path) && unlink(path) == 0
        }
    }

    /// The file names in `dir`; nil when it cannot be read (errno says why).
    public static func entries(in dir: String) -> [String]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            names.append(withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        }
        return names
    }

    /// A component binds its socket and listens on it at once; only a socket older than
    /// this that refuses connections while its pid exists is someone else's leftover.
    static let bindToListenGrace: time_t = 2

    static func isStale(file: String, path: String) -> Bool {
        guard componentName(ofSocket: file) != nil, nobodyListens(path) else { return false }
        if goneOwner(ofSocket: file) != nil { return true }
        var st = stat()
        return lstat(path, &st) == 0 && time(nil) - st.st_mtim.tv_sec > bindToListenGrace
    }

    /// The pid named by a control socket file ("fuse-1234.sock") when that process no
    /// longer exists; nil when it does, or when the name is not a control socket's.
    static func goneOwner(ofSocket file: String) -> Int32? {
        guard let name = componentName(ofSocket: file), let pid = pid(ofComponent: name), pid > 0,
              kill(pid, 0) != 0 && errno == ESRCH else { return nil }
        return pid
    }

    /// True when connecting to the socket is refused. A pid that does not exist here may
    /// live in another pid namespace sharing this directory (a DPU-side client and the
    /// host's server on one machine): its socket still answers and must be kept.
    static func nobodyListens(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc != 0 && errno == ECONNREFUSED
    }

    /// Creates the directory (mode 0700) if missing; fails if it is not a directory.
    static func ensure(_ dir: String) throws {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw ControlError("cannot create control directory \(dir): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard stat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw ControlError("control directory \(dir) is not a directory; remove it or set \(environmentKey)")
        }
    }
}
