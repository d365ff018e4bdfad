// The listening TCP socket, created synchronously so that errors (port in use, bad
// address) reach the person starting the server with a hint of what to do.
import Glibc
internal import CQtfsSys

enum SocketAddress {
    static func listen(address: String, port: UInt16, backlog: Int32 = 1024) throws -> (fd: Int32, port: UInt16) {
        var ss = sockaddr_storage()
        let family = try fill(&ss, address, port)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigError("cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        let len = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        if bound != 0 {
            let e = errno
            close(fd)
            if e == EADDRINUSE {
                throw ConfigError("port \(port) on \(address) is already in use; stop the other server or pick another port with --port")
            }
            if e == EACCES { throw ConfigError("not allowed to bind port \(port) on \(address); use a port above 1023 or run as root") }
            throw ConfigError("cannot listen on \(address):\(port): \(String(cString: strerror(e))); check --listen")
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw ConfigError("cannot listen on \(address):\(port): \(String(cString: strerror(e)))")
        }
        return (fd, boundPort(fd))
    }

    private static func fill(_ ss: inout sockaddr_storage, _ address: String, _ port: UInt16) throws -> Int32 {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, address, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &ss) { dst in withUnsafeBytes(of: v4) { dst.copyMemory(from: $0) } }
            return AF_INET
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, address, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &ss) { dst in withUnsafeBytes(of: v6) { dst.copyMemory(from: $0) } }
            return AF_INET6
        }
        throw ConfigError("'\(address)' is not an IPv4 or IPv6 address; give --listen an address such as 127.0.0.1 or ::")
    }

    private static func boundPort(_ fd: Int32) -> UInt16 {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return withUnsafeBytes(of: ss) { UInt16(bigEndian: $0.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) }
    }

    /// "address:port" of a peer, for logs.
    static func describe(_ ss: sockaddr_storage) -> String {
        var host = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafeBytes(of: ss) { raw -> String in
            let port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            let family = Int32(ss.ss_family)
            let addrOffset = family == AF_INET6 ? 8 : 4
            guard let base = raw.baseAddress,
                  inet_ntop(family, base + addrOffset, &host, socklen_t(host.count)) != nil else { return "unknown" }
            let name = String(cString: host)
            return family == AF_INET6 ? "[\(name)]:\(port)" : "\(name):\(port)"
        }
    }
}
