// Blocking socket I/O helpers that retry EINTR and short transfers.
#if canImport(Glibc)
import Glibc
#endif
import QtfsSystem

enum SocketIO {
    /// Writes every byte of `parts` (one sendmsg when possible). False on error or EOF.
    static func sendAll(_ fd: Int32, _ parts: [UnsafeRawBufferPointer]) -> Bool {
        var iov = parts.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        var first = 0
        while first < iov.count {
            let n = (try? sys("sendmsg") {
                iov.withUnsafeMutableBufferPointer { buf -> Int in
                    var msg = msghdr()
                    msg.msg_iov = buf.baseAddress! + first
                    msg.msg_iovlen = buf.count - first
                    return sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
                }
            }) ?? -1
            if n < 0 { return false }
            var left = n
            while first < iov.count && left >= iov[first].iov_len {
                left -= iov[first].iov_len
                first += 1
            }
            if left > 0 {
                iov[first].iov_base = iov[first].iov_base! + left
                iov[first].iov_len -= left
            }
        }
        return true
    }

    /// recv into `p`, retrying EINTR. Returns bytes read, 0 at EOF, -1 on error.
    static func recvSome(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
        (try? sys("recv") { recv(fd, p, n, 0) }) ?? -1
    }
}
