// A small blocking protocol client for the tests: raw TCP, frames built with the
// QtfsProtocol codec, 10 s receive timeout so a broken server fails a test, not hangs it.
import Glibc
import QtfsProtocol
import XCTest

struct ServerError: Error, Equatable { let errno: Int32 }
struct ClientError: Error { let what: String }

final class TestClient {
    let fd: Int32
    private var nextID: UInt64 = 1
    var caller = Caller.root

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { close(fd); throw ClientError(what: "connect: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func newID() -> UInt64 { defer { nextID += 1 }; return nextID }

    func sendRaw(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(what: "send: \(errno)") }
            off += n
        }
    }

    func frame<P: WirePayload>(_ op: Opcode, _ p: P, id: UInt64) -> [UInt8] {
        FrameHeader.frame(kind: .request, opcode: op, id: id, payload: p)
    }

    func readExactly(_ n: Int) throws -> [UInt8] {
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

    func readFrame() throws -> (FrameHeader, [UInt8]) {
        let head = try readExactly(Wire.headerSize)
        let h = try head.withUnsafeBytes { try FrameHeader.decode($0) }
        return (h, try readExactly(Int(h.length)))
    }

    /// True when the server closed the connection (EOF or reset) within the timeout.
    func waitClosed() -> Bool {
        var b = [UInt8](repeating: 0, count: 4096)
        while true {
            let r = b.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if r == 0 { return true }
            if r < 0 && errno == EINTR { continue }
            if r < 0 { return errno == ECONNRESET }
        }
    }

    func call<P: WirePayload>(_ op: Opcode, _ p: P) throws -> (UInt32, [UInt8]) {
        let id = newID()
        try sendRaw(frame(op, p, id: id))
        let (h, payload) = try readFrame()
        guard h.id == id, h.opcode == op.rawValue, h.kind == .response else { throw ClientError(what: "mismatched reply \(h)") }
        return (h.status, payload)
    }

    func expect<P: WirePayload, R: WirePayload>(_ op: Opcode, _ p: P, _: R.Type) throws -> R {
        let (status, payload) = try call(op, p)
        guard status == 0 else { throw ServerError(errno: Int32(status)) }
        return try R.decode(payload)
    }

    /// The errno status of a request (0 on success).
    func status<P: WirePayload>(_ op: Opcode, _ p: P) throws -> Int32 {
        Int32(try call(op, p).0)
    }

    // MARK: conveniences

    func hello() throws -> HelloReply {
        try expect(.hello, HelloRequest(clientName: "test"), HelloReply.self)
    }
    func mount(_ path: String) throws -> MountReply {
        try expect(.mount, MountRequest(caller: caller, path: path), MountReply.self)
    }
    func t(_ path: String, export: UInt32 = 0) -> Target { Target(export: export, path) }
    func lookup(_ path: String) throws -> Attr {
        try expect(.lookup, PathRequest(caller: caller, target: t(path)), AttrReply.self).attr
    }
    func mkdir(_ path: String, mode: UInt32 = 0o755) throws -> Attr {
        try expect(.mkdir, MkdirRequest(caller: caller, target: t(path), mode: mode), AttrReply.self).attr
    }
    func create(_ path: String, flags: Int32 = O_RDWR | O_EXCL, mode: UInt32 = 0o644) throws -> CreateReply {
        try expect(.create, CreateRequest(caller: caller, target: t(path), flags: UInt32(bitPattern: flags), mode: mode), CreateReply.self)
    }
    func open(_ path: String, flags: Int32) throws -> UInt64 {
        try expect(.open, OpenRequest(caller: caller, target: t(path), flags: UInt32(bitPattern: flags)), OpenReply.self).handle
    }
    func write(_ h: UInt64, _ offset: UInt64, _ data: [UInt8]) throws -> UInt32 {
        try expect(.write, WriteRequest(handle: h, offset: offset, data: data), WriteReply.self).written
    }
    func read(_ h: UInt64, _ offset: UInt64, _ size: UInt32) throws -> [UInt8] {
        try expect(.read, ReadRequest(handle: h, offset: offset, size: size), ReadReply.self).data
    }
    func release(_ h: UInt64) throws {
        _ = try expect(.release, HandleRequest(handle: h), EmptyReply.self)
    }
}

/// Asserts that `body` fails with the server errno `expected`.
func XCTAssertErrno<T>(_ expected: Int32, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected errno \(expected), got success", file: file, line: line)
    } catch let e as ServerError {
        XCTAssertEqual(e.errno, expected, "errno", file: file, line: line)
    } catch {
        XCTFail("expected errno \(expected), got \(error)", file: file, line: line)
    }
}
