// A small blocking protocol client for the tests (the raw client): raw TCP, frames built
// with the QtfsProtocol codec, 10 s receive timeout so a broken server fails a test, not
// hangs it. Frames are read and written by FrameIO, as the fake server's peer does.
import Glibc
import QtfsProtocol

public struct ServerError: Error, Equatable {
    public let errno: Int32
    public init(errno: Int32) { self.errno = errno }
}
public struct ClientError: Error { public let what: String }

public final class TestClient {
    public let fd: Int32
    private var nextID: UInt64 = 1
    public var caller = Caller.root

    public init(port: UInt16) throws {
        fd = Loopback.connect(port: port)
        guard fd >= 0 else { throw ClientError(what: "connect: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func newID() -> UInt64 { defer { nextID += 1 }; return nextID }

    public func sendRaw(_ bytes: [UInt8]) throws { try FrameIO(fd: fd).send(bytes) }

    public func frame<P: WirePayload>(_ op: Opcode, _ p: P, id: UInt64) -> [UInt8] {
        FrameHeader.frame(kind: .request, opcode: op, id: id, payload: p)
    }

    public func readExactly(_ n: Int) throws -> [UInt8] { try FrameIO(fd: fd).readExactly(n) }

    public func readFrame() throws -> (FrameHeader, [UInt8]) { try FrameIO(fd: fd).readFrame() }

    /// True when the server closed the connection (EOF or reset) within the timeout.
    public func waitClosed() -> Bool {
        var b = [UInt8](repeating: 0, count: 4096)
        while true {
            let r = b.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if r == 0 { return true }
            if r < 0 && errno == EINTR { continue }
            if r < 0 { return errno == ECONNRESET }
        }
    }

    public func call<P: WirePayload>(_ op: Opcode, _ p: P) throws -> (UInt32, [UInt8]) {
        let id = newID()
        try sendRaw(frame(op, p, id: id))
        let (h, payload) = try readFrame()
        guard h.id == id, h.opcode == op.rawValue, h.kind == .response else { throw ClientError(what: "mismatched reply \(h)") }
        return (h.status, payload)
    }

    public func expect<P: WirePayload, R: WirePayload>(_ op: Opcode, _ p: P, _: R.Type) throws -> R {
        let (status, payload) = try call(op, p)
        guard status == 0 else { throw ServerError(errno: Int32(status)) }
        return try R.decode(payload)
    }

    /// The errno status of a request (0 on success).
    public func status<P: WirePayload>(_ op: Opcode, _ p: P) throws -> Int32 {
        Int32(try call(op, p).0)
    }

    // MARK: conveniences

    public func hello() throws -> HelloReply {
        try expect(.hello, HelloRequest(clientName: "test"), HelloReply.self)
    }
    public func mount(_ path: String) throws -> MountReply {
        try expect(.mount, MountRequest(caller: caller, path: path), MountReply.self)
    }
    public func t(_ path: String, export: UInt32 = 0) -> Target { Target(export: export, path) }
    public func lookup(_ path: String) throws -> Attr {
        try expect(.lookup, PathRequest(caller: caller, target: t(path)), AttrReply.self).attr
    }
    public func mkdir(_ path: String, mode: UInt32 = 0o755) throws -> Attr {
        try expect(.mkdir, MkdirRequest(caller: caller, target: t(path), mode: mode), AttrReply.self).attr
    }
    public func create(_ path: String, flags: Int32 = O_RDWR | O_EXCL, mode: UInt32 = 0o644) throws -> CreateReply {
        try expect(.create, CreateRequest(caller: caller, target: t(path), flags: UInt32(bitPattern: flags), mode: mode), CreateReply.self)
    }
    public func open(_ path: String, flags: Int32) throws -> UInt64 {
        try expect(.open, OpenRequest(caller: caller, target: t(path), flags: UInt32(bitPattern: flags)), OpenReply.self).handle
    }
    public func write(_ h: UInt64, _ offset: UInt64, _ data: [UInt8]) throws -> UInt32 {
        try expect(.write, WriteRequest(handle: h, offset: offset, data: data), WriteReply.self).written
    }
    public func read(_ h: UInt64, _ offset: UInt64, _ size: UInt32) throws -> [UInt8] {
        try expect(.read, ReadRequest(handle: h, offset: offset, size: size), ReadReply.self).data
    }
    public func release(_ h: UInt64) throws {
        _ = try expect(.release, HandleRequest(handle: h), EmptyReply.self)
    }
}
