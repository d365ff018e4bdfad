// Byte counters of a TCP socket, from the kernel (struct tcp_info, linux/tcp.h): free for
// connections whose owner does not count bytes itself.
import Glibc

public enum TcpInfo {
    // Offsets of tcpi_bytes_acked and tcpi_bytes_received (kernel 4.1+); the struct only grows.
    private static let ackedOffset = 120, receivedOffset = 128
    private static let tcpInfoOption: Int32 = 11   // TCP_INFO

    /// nil if the socket is closed or the kernel is too old to say.
    public static func bytes(_ fd: Int32) -> (acked: UInt64, received: UInt64)? {
        var buf = [UInt8](repeating: 0, count: 256)
        var len = socklen_t(buf.count)
        guard buf.withUnsafeMutableBytes({ getsockopt(fd, Int32(IPPROTO_TCP), tcpInfoOption, $0.baseAddress, &len) }) == 0,
              len >= socklen_t(receivedOffset + 8) else { return nil }
        return buf.withUnsafeBytes {
            ($0.loadUnaligned(fromByteOffset: ackedOffset, as: UInt64.self),
             $0.loadUnaligned(fromByteOffset: receivedOffset, as: UInt64.self))
        }
    }
}
