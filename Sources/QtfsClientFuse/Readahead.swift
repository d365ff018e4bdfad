// Kernel readahead for the mount. The kernel caps a FUSE mount's readahead at its default
// 128 KiB (the smaller of that and the max_readahead we announce), so sequential reads
// arrive as 128 KiB READs, each a round trip. Raising the mount's bdi read_ahead_kb to
// the READ size lets one READ carry 1 MiB. Root only (sysfs); others keep the default.
#if canImport(Glibc)
import Glibc
#endif

enum Readahead {
    /// Sets read_ahead_kb of the file system mounted on `mountpoint` (the last mount
    /// there). Returns false when it could not (not root, no such mount): not an error.
    @discardableResult
    static func set(mountpoint: String, kb: Int) -> Bool {
        guard kb > 0, let dev = deviceNumber(of: mountpoint) else { return false }
        let path = "/sys/class/bdi/\(dev)/read_ahead_kb"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let text = Array("\(kb)\n".utf8)
        return write(fd, text, text.count) == text.count
    }

    /// "MAJOR:MINOR" of the newest mount on `mountpoint`, from /proc/self/mountinfo
    /// (read rather than stat'ed: a stat would wait for this very daemon to answer).
    static func deviceNumber(of mountpoint: String) -> String? {
        guard let f = fopen("/proc/self/mountinfo", "r") else { return nil }
        defer { fclose(f) }
        var found: String?
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let l = line {
            let fields = String(cString: l).split(separator: " ", maxSplits: 5)
            guard fields.count > 4, unescape(fields[4]) == mountpoint else { continue }
            found = String(fields[2])
        }
        return found
    }

    /// mountinfo writes space, tab, newline and backslash as \040-style octal escapes.
    static func unescape(_ s: Substring) -> String {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == 92, bytes.count >= 3, let v = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8) {
                out.append(v)
                bytes = bytes.dropFirst(3)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
