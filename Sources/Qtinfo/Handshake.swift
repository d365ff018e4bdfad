#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

/// One HELLO exchange on a fresh TCP connection, timed.
enum Handshake {
    struct Result {
        var serverName: String
        var version: UInt16
        var microseconds: Double
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(host: String, port: UInt16) throws -> Result {
        let fd = try connect(host: host, port: port)
        defer { close(fd) }
        let start = now()
        // Offers authentication and every suite, as a keyed client does: a server that seals
        // every connection refuses a HELLO without them. qtinfo closes after the answer.
        let caps = HelloRequest.capAuthCapable | Sealed.allCapabilities
        let hello = FrameHeader.frame(kind: .request, opcode: .hello, id: 1, payload: HelloRequest(capabilities: caps, clientName: "qtinfo"))
        guard hello.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == hello.count else {
            throw Failure(description: "sending HELLO to \(host):\(port) failed: \(String(cString: strerror(errno)))")
        }
        let header = try readExactly(fd, Wire.headerSize, host, port)
        let h = try header.withUnsafeBytes { try FrameHeader.decode($0) }
        let body = try readExactly(fd, Int(h.length), host, port)
        let elapsed = now() - start
        guard h.status == 0 else {
            throw Failure(description: "\(host):\(port) refused the handshake: \(String(cString: strerror(Int32(h.status))))")
        }
        let reply = try HelloReply.decode(body)
        return Result(serverName: reply.serverName, version: reply.version, microseconds: elapsed * 1e6)
    }

    private static func connect(host: String, port: UInt16) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw Failure(description: "cannot resolve '\(host)': check the --server name")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0, Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw Failure(description: "cannot connect to \(host):\(port): \(reason). Is qtfs-server running there? Start it with: qtfs-server --export /")
        }
        return fd
    }

    private static func readExactly(_ fd: Int32, _ n: Int, _ host: String, _ port: UInt16) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r <= 0 { throw Failure(description: "\(host):\(port) closed the connection during the handshake") }
            got += r
        }
        return buf
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
