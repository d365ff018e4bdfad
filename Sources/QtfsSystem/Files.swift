// Reading a small text file whole (configuration, whitelists, /proc files) with libc alone.
#if canImport(Glibc)
import Glibc
#endif

/// Whole small file as text, or nil with errno set.
public func readWholeFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        guard let n = try? sys("read", { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }) else { return nil }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
        if out.count > 1 << 20 { errno = EFBIG; return nil }
    }
    return String(decoding: out, as: UTF8.self)
}
