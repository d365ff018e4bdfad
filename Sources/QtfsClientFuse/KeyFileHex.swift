// The key file of key=KEYFILE, for the kernel module (key_hex=HEX). Same rules as the
// server and qtfs-fuse apply (docs/protocol.md, "Key file"): a regular file, not a
// symlink, owned by this user or root, no access for group or others; 32-128 hex digits.
import Glibc
import QtfsClient

enum KeyFileHex {
    struct Failure: Error { let message: String }

    static func load(_ path: String) -> Result<String, Failure> {
        func fail(_ m: String) -> Result<String, Failure> { .failure(Failure(message: "key file \(path): \(m)")) }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            return fail(errno == ELOOP ? "is a symlink; give the real file" : "\(Sys.errorText(errno)); create one with `qtfs-server --generate-key \(path)`")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return fail("is not a regular file") }
        if st.st_mode & 0o077 != 0 { return fail("group or others may access it; run `chmod 600 \(path)`") }
        if st.st_uid != geteuid() && st.st_uid != 0 { return fail("belongs to uid \(st.st_uid), not to you or root") }
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0, n < buf.count else { return fail(n < 0 ? Sys.errorText(errno) : "too long for a key") }
        let hex = buf[0..<n].filter { !($0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d) }
        guard hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }),
              hex.count % 2 == 0, (32...128).contains(hex.count)
        else { return fail("must hold 32 to 128 hex digits (whitespace ignored)") }
        return .success(String(decoding: hex, as: UTF8.self).lowercased())
    }
}
