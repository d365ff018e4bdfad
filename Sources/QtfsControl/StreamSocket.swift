// Stream sockets with bounded, timed reads and writes: the control protocol's
// transport on both ends.
import Glibc
import QtfsSystem

/// When a whole exchange (connect, send, receive) gives up. Each blocking call gets the
/// time left as its socket timeout, so a peer that trickles bytes cannot stretch it.
public struct Deadline: Sendable {
    let end: UInt64

    public init(seconds: Double) { end = MonotonicClock.nanoseconds() &+ UInt64(max(0, seconds) * 1e9) }

    /// Sets `fd`'s send and receive timeouts (they also bound a unix connect) to the time
    /// left; false once none is left.
    func arm(_ fd: Int32) -> Bool {
        let now = MonotonicClock.nanoseconds()
        guard end > now, end - now >= 1000 else { return false }   // a zero timeval would mean "never"
        let left = end - now
        var tv = timeval(tv_sec: Int(left / 1_000_000_000), tv_usec: Int(left % 1_000_000_000 / 1000))
        let size = socklen_t(MemoryLayout<timeval>.size)
        return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, size) == 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, size) == 0
    }
}

public enum StreamSocket {
    /// Largest request or response accepted, bytes.
    static let maxMessage = 4 << 20

    static func make() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlError("cannot create a unix socket: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Calls `body` with `path` as a sockaddr_un; false if the path is too long.
    static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let cap = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < cap else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    public static func setTimeouts(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads one newline-terminated message (or up to EOF), at most `maxMessage` bytes.
    /// nil on timeout (the socket's, or `deadline`), error or oversize.
    static func readMessage(_ fd: Int32, deadline: Deadline? = nil) -> [UInt8]? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while data.count <= maxMessage {
            if let deadline, !deadline.arm(fd) { return nil }
            guard let n = try? sys("read", { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }) else { return nil }
            if n == 0 { return data.isEmpty ? nil : data }
            data += chunk[0..<n]
            if let nl = data.firstIndex(of: UInt8(ascii: "\n")) { return Array(data[..<nl]) }
        }
        return nil
    }

    /// Sends all of `bytes`; false on error or timeout (the socket's, or `deadline`).
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], deadline: Deadline? = nil) -> Bool {
        var off = 0
        while off < bytes.count {
            if let deadline, !deadline.arm(fd) { return false }
            let n = (try? sys("send") { bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) } }) ?? -1
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// Accepts clients one at a time and hands each to `handle` (which need not close
    /// it), until the listening socket is shut down.
    public static func acceptLoop(_ fd: Int32, _ handle: (Int32) -> Void) {
        while true {
            let c: Int32
            do { c = try sys("accept") { accept(fd, nil, nil) } } catch let e as Errno {
                if e.code == ECONNABORTED { continue }
                if e.code == EMFILE || e.code == ENFILE { usleep(100_000); continue }   // out of fds: wait, do not spin
                return   // shut down
            } catch { return }
            setTimeouts(c, seconds: 2)
            handle(c)
            close(c)
        }
    }

    /// The uid of the process at the other end.
    static func peerUid(_ fd: Int32) -> uid_t? {
        var cred = PeerCred()
        var len = socklen_t(MemoryLayout<PeerCred>.size)
        return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.uid : nil
    }

    /// struct ucred (glibc shows it only with _GNU_SOURCE).
    private struct PeerCred { var pid: Int32 = 0; var uid: uid_t = 0; var gid: gid_t = 0 }
}
