// A tiny in-process peer on the other end of a socketpair, answering frames by hand.
import Glibc
import QtfsProtocol

public struct FakePeer {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    /// A connected pair: (client end, fake server end).
    public static func pair() -> (Int32, FakePeer) {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (fds[0], FakePeer(fd: fds[1]))
    }

    /// Exactly `n` bytes, or nil once the client is gone.
    public func readExact(_ n: Int) -> [UInt8]? { try? FrameIO(fd: fd).readExactly(n) }

    /// The next request: header and payload.
    public func readRequest() -> (FrameHeader, [UInt8])? { try? FrameIO(fd: fd).readFrame() }

    public func send(_ bytes: [UInt8]) { try! FrameIO(fd: fd).send(bytes) }

    /// A response frame whose payload is raw bytes.
    public static func response(_ op: UInt16, id: UInt64, status: UInt32 = 0, payload: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        FrameHeader(kind: .response, opcode: op, id: id, length: UInt32(payload.count), status: status).encode(into: &w)
        w.raw(payload)
        return w.bytes
    }

    public func close() { Glibc.close(fd) }
}
