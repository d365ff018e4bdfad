// Reading and creating key files. A key anyone else can read is no secret: such a file
// is refused, with the command that fixes it.
#if canImport(Glibc)
import Glibc
#endif

extension AuthKey {
    /// Loads a key file: a regular file, owned by this user (or root), not readable or
    /// writable by group or others.
    public static func load(path: String) throws -> AuthKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let e = errno
            if e == ELOOP { throw AuthKeyError("key file \(path) is a symlink; give the real file") }
            if e == EACCES {
                throw AuthKeyError("cannot read key file \(path): permission denied (uid \(getuid())); it must be readable by this user only: run as its owner, or give a copy owned by this user with mode 0600 (-k FILE)")
            }
            throw AuthKeyError("cannot read key file \(path): \(String(cString: strerror(e))); create one with `qtfs-server --generate-key \(path)`")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw AuthKeyError("key file \(path) is not a regular file")
        }
        if st.st_mode & 0o077 != 0 {
            let mode = String(st.st_mode & 0o777, radix: 8)
            throw AuthKeyError("key file \(path) is accessible by group or others (mode \(mode)); run `chmod 600 \(path)`")
        }
        if st.st_uid != geteuid() && st.st_uid != 0 {
            throw AuthKeyError("key file \(path) belongs to uid \(st.st_uid), not to this user (uid \(geteuid())) or root; run `chown \(geteuid()) \(path)`")
        }
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw AuthKeyError("cannot read key file \(path): \(String(cString: strerror(errno)))") }
        guard n < buf.count else { throw AuthKeyError("key file \(path) is too long for a key (at most \(2 * maxBytes) hex digits)") }
        do {
            return try AuthKey(hex: String(decoding: buf[0..<n], as: UTF8.self))
        } catch let e as AuthKeyError {
            throw AuthKeyError("key file \(path): \(e.description)")
        }
    }

    /// Writes a new random key to `path` (mode 0600, never overwriting a file).
    public static func generate(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST { throw AuthKeyError("\(path) exists; remove it first if you want a new key (every client needs the new key too)") }
            throw AuthKeyError("cannot create key file \(path): \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        fchmod(fd, 0o600)   // O_CREAT's mode is reduced by the umask; make sure it is 0600
        let text = Array(generateText().utf8)
        guard text.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == text.count else {
            throw AuthKeyError("cannot write key file \(path): \(String(cString: strerror(errno)))")
        }
    }
}
