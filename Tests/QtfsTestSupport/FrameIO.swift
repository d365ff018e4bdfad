// Whole frames and exact byte counts over a blocking socket: the one frame reader of the
// test fakes (FakePeer, the server's side; TestClient, the client's side).
import Glibc
import QtfsProtocol

public struct FrameIO {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }

    /// Exactly `n` bytes; throws at end of data or on an error (a receive timeout too).
    public func readExactly(_ n: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r == 0 { throw ClientError(what: "closed") }
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { throw ClientError(what: "recv: \(errno)") }
            got += r
        }
        return out
    }

    /// The next frame: header (checked by the codec) and payload.
    public func readFrame() throws -> (FrameHeader, [UInt8]) {
        let head = try readExactly(Wire.headerSize)
        let h = try head.withUnsafeBytes { try FrameHeader.decode($0) }
        return (h, try readExactly(Int(h.length)))
    }

    public func send(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(what: "send: \(errno)") }
            off += n
        }
    }
}
