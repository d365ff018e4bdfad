// A tiny in-process peer on the other end of a socketpair, answering frames by hand.
import Foundation
import Glibc
import QtfsProtocol

struct FakePeer {
    let fd: Int32

    /// A connected pair: (client end, fake server end).
    static func pair() -> (Int32, FakePeer) {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (fds[0], FakePeer(fd: fds[1]))
    }

    func readExact(_ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r <= 0 { return nil }
            got += r
        }
        return out
    }

    /// The next request: header and payload.
    func readRequest() -> (FrameHeader, [UInt8])? {
        guard let h = readExact(Wire.headerSize) else { return nil }
        let header = try! h.withUnsafeBytes { try FrameHeader.decode($0) }
        guard let p = readExact(Int(header.length)) else { return nil }
        return (header, p)
    }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            precondition(n > 0)
            off += n
        }
    }

    /// A response frame whose payload is raw bytes.
    static func response(_ op: UInt16, id: UInt64, status: UInt32 = 0, payload: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        FrameHeader(kind: .response, opcode: op, id: id, length: UInt32(payload.count), status: status).encode(into: &w)
        w.raw(payload)
        return w.bytes
    }

    func close() { Glibc.close(fd) }
}
