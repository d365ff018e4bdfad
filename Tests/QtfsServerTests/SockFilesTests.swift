// File descriptors over the unix socket bridge, host side, on the wire (docs/protocol.md,
// "Passing file descriptors"): the grant, records whose files the server reopens for the
// host process, and descriptors from the host process described or dropped.
import Foundation
import Glibc
import QtfsProtocol
import QtfsTestSupport
import QtfsServerCore
import XCTest

final class SockFilesTests: ServerTestCase {
    override func configure(_ cfg: inout ServerConfig) { cfg.unixConnect = [root + "/"] }

    func testAFileFromTheDPUIsReopenedAtItsOffset() throws {
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: host("f")))
        let (c, local) = try relay()
        defer { close(local) }
        try c.sendRaw(record("abc", [(UInt32(O_RDWR), 4, host("f"))]))
        let (data, fds) = receive(local)
        XCTAssertEqual(data, "abc")
        XCTAssertEqual(fds.count, 1, "the file arrives with its bytes")
        guard let fd = fds.first else { return }
        var b = [UInt8](repeating: 0, count: 2)
        XCTAssertEqual(read(fd, &b, 2), 2)
        XCTAssertEqual(String(decoding: b, as: UTF8.self), "45", "read at the sender's offset")
        XCTAssertEqual(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR)
        close(fd)
    }

    func testAPathOutsideTheExportsIsDroppedAndTheBytesStillArrive() throws {
        let (c, local) = try relay()
        defer { close(local) }
        try c.sendRaw(record("xyz", [(UInt32(O_RDONLY), 0, "/etc/passwd"), (UInt32(O_RDONLY), 0, root + "/../x")]))
        let (data, fds) = receive(local)
        XCTAssertEqual(data, "xyz")
        XCTAssertEqual(fds, [], "no file outside the exports is opened")
    }

    func testHostDescriptorsAreDescribedOrDropped() throws {
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: host("g")))
        let (c, local) = try relay()
        defer { close(local) }
        let file = open(host("g"), O_RDONLY)
        XCTAssertEqual(lseek(file, 7, SEEK_SET), 7)
        var pair: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair), 0)
        XCTAssertTrue(sendWithFds(local, "hi", [file, pair[0]]))
        [file, pair[0], pair[1]].forEach { close($0) }
        let head = try c.readExactly(8)
        XCTAssertEqual(u32(head, 0), 2, "data length")
        XCTAssertEqual(u32(head, 4), 1, "the file is described, the socket dropped")
        let f = try c.readExactly(14)
        XCTAssertEqual(u32(f, 0) & UInt32(O_ACCMODE), UInt32(O_RDONLY))
        XCTAssertEqual(u32(f, 4), 7, "its offset")
        let path = try c.readExactly(Int(f[12]) | Int(f[13]) << 8)
        XCTAssertEqual(String(decoding: path, as: UTF8.self), host("g"), "named below the export as configured")
        XCTAssertEqual(try c.readExactly(2), Array("hi".utf8))
    }
}

extension SockFilesTests {
    /// A host process passes a pipe's read end: the record names it by a token, and the
    /// connection that claims the token (SOCK_ACCEPT) carries what is written into it.
    func testAHostPipeIsRelayedOnTheConnectionThatClaimsItsToken() throws {
        let (c, local) = try relay()
        defer { close(local) }
        var p: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&p), 0)
        XCTAssertTrue(sendWithFds(local, "p", [p[0]]))
        close(p[0])
        XCTAssertEqual(u32(try c.readExactly(8), 4), 1, "the pipe is described")
        let f = try c.readExactly(14)
        XCTAssertEqual(u32(f, 0), UInt32(O_RDONLY), "the receiver gets a read end")
        XCTAssertEqual(f[12], 0, "no path: a pipe")
        let token = UInt64(u32(f, 4)) | UInt64(u32(f, 8)) << 32
        XCTAssertNotEqual(token & (1 << 63), 0, "pipe tokens have the top bit")
        XCTAssertEqual(try c.readExactly(1), Array("p".utf8))
        let data = try TestClient(port: server.port)
        _ = try data.hello()
        XCTAssertEqual(try data.status(.sockAccept, SockTokenMessage(token: token)), 0)
        XCTAssertEqual(write(p[1], "through", 7), 7)
        close(p[1])
        XCTAssertEqual(try data.readExactly(7), Array("through".utf8))
        XCTAssertTrue(data.waitClosed(), "the pipe's end closes the connection")
    }

    /// A pipe from the DPU: the host process gets a read end whose data comes on the
    /// connection the DPU opens with the token. That one may come first: it is answered
    /// once the pipe is there.
    func testAPipeFromTheDPUIsFedByItsConnection() throws {
        let (c, local) = try relay()
        defer { close(local) }
        let token: UInt64 = 1 << 63 | 42
        let data = try TestClient(port: server.port)
        _ = try data.hello()
        try data.sendRaw(data.frame(.sockAccept, SockTokenMessage(token: token), id: data.newID()))
        try c.sendRaw(record("q", [(UInt32(O_RDONLY), token, "")]))
        XCTAssertEqual(try data.readFrame().0.status, 0)
        let (bytes, fds) = receive(local)
        XCTAssertEqual(bytes, "q")
        XCTAssertEqual(fds.count, 1, "the host process gets a pipe end")
        guard let r = fds.first else { return }
        defer { close(r) }
        try data.sendRaw(Array("from the DPU".utf8))
        shutdown(data.fd, Int32(SHUT_WR))
        var got: [UInt8] = [], b = [UInt8](repeating: 0, count: 64)
        while case let n = read(r, &b, b.count), n > 0 { got += b[..<n] }
        XCTAssertEqual(String(decoding: got, as: UTF8.self), "from the DPU", "read to the end")
    }
}

/// A relay that passes files, and the wire and socket helpers both test cases use.
extension ServerTestCase {
    /// A host listener at root/s.sock, a relay to it that passes files, and the host's end.
    fileprivate func relay() throws -> (TestClient, Int32) {
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertEqual(bindUnix(listener, host("s.sock")), 0)
        XCTAssertEqual(listen(listener, 1), 0)
        defer { close(listener) }
        let c = try TestClient(port: server.port)
        XCTAssertNotEqual(try c.hello().capabilities & HelloReply.capSockFiles, 0, "HELLO announces SOCK_FILES")
        let type = SockConnectRequest.stream | SockConnectRequest.passFiles
        try c.sendRaw(c.frame(.sockConnect, SockConnectRequest(caller: .root, path: Array(host("s.sock").utf8), type: type), id: c.newID()))
        let (h, payload) = try c.readFrame()
        XCTAssertEqual(h.status, 0)
        XCTAssertEqual(try SockGrant.decode(payload).flags, SockConnectRequest.passFiles, "the answer grants PASS_FILES")
        return (c, accept(listener, nil, nil))
    }


    fileprivate func record(_ data: String, _ files: [(UInt32, UInt64, String)]) -> [UInt8] {
        var out: [UInt8] = []
        func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        put32(UInt32(data.utf8.count)); put32(UInt32(files.count))
        for (flags, offset, path) in files {
            put32(flags); withUnsafeBytes(of: offset.littleEndian) { out += $0 }
            withUnsafeBytes(of: UInt16(path.utf8.count).littleEndian) { out += $0 }
            out += Array(path.utf8)
        }
        return out + Array(data.utf8)
    }

    fileprivate func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    fileprivate func bindUnix(_ fd: Int32, _ path: String) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8).prefix($0.count - 1)) }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// One recvmsg (5 s at most): its bytes and the descriptors that came with them.
    fileprivate func receive(_ fd: Int32) -> (String, [Int32]) {
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 256), ctl = [UInt8](repeating: 0, count: 256)
        var fds: [Int32] = []
        let n = buf.withUnsafeMutableBytes { b in
            ctl.withUnsafeMutableBytes { c -> Int in
                var iov = iovec(iov_base: b.baseAddress, iov_len: b.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_iov = iovp; msg.msg_iovlen = 1
                    msg.msg_control = c.baseAddress; msg.msg_controllen = c.count
                    let n = recvmsg(fd, &msg, 0)
                    if n >= 0 && msg.msg_controllen >= 16 {   // one SCM_RIGHTS cmsghdr
                        let len = Int(c.load(fromByteOffset: 0, as: UInt.self))
                        for i in 0..<((len - 16) / 4) { fds.append(c.load(fromByteOffset: 16 + 4 * i, as: Int32.self)) }
                    }
                    return n
                }
            }
        }
        return (n > 0 ? String(decoding: buf[..<n], as: UTF8.self) : "", fds)
    }

    fileprivate func sendWithFds(_ fd: Int32, _ data: String, _ fds: [Int32]) -> Bool {
        var ctl = [UInt8](repeating: 0, count: (16 + 4 * fds.count + 7) & ~7)
        ctl.withUnsafeMutableBytes { c in
            c.storeBytes(of: UInt(16 + 4 * fds.count), toByteOffset: 0, as: UInt.self)
            c.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
            c.storeBytes(of: Int32(1), toByteOffset: 12, as: Int32.self)   // SCM_RIGHTS
            for (i, f) in fds.enumerated() { c.storeBytes(of: f, toByteOffset: 16 + 4 * i, as: Int32.self) }
        }
        var bytes = Array(data.utf8)
        return bytes.withUnsafeMutableBytes { b in
            ctl.withUnsafeMutableBytes { c in
                var iov = iovec(iov_base: b.baseAddress, iov_len: b.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_iov = iovp; msg.msg_iovlen = 1
                    msg.msg_control = c.baseAddress; msg.msg_controllen = c.count
                    return sendmsg(fd, &msg, 0) == b.count
                }
            }
        }
    }
}

/// An export reached through a symlink: the kernel names a passed file by its resolved
/// path, the DPU knows the export's path as configured.
final class SockFilesSymlinkedExportTests: ServerTestCase {
    private let real = NSTemporaryDirectory() + "qtfs-real-\(UUID().uuidString)"
    private var link: String { real + "-link" }
    override func configure(_ cfg: inout ServerConfig) { cfg.unixConnect = [root + "/"] }
    override func extraExports() -> [ExportConfig] {
        mkdir(real, 0o777)
        symlink(real, link)
        return [ExportConfig(path: link)]
    }
    override func tearDownWithError() throws {
        try super.tearDownWithError()
        unlink(link)
        try? FileManager.default.removeItem(atPath: real)
    }

    func testAFileIsNamedBelowTheExportAsConfigured() throws {
        try Data("abc".utf8).write(to: URL(fileURLWithPath: real + "/h"))
        let (c, local) = try relay()
        defer { close(local) }
        let file = open(real + "/h", O_RDONLY)
        XCTAssertTrue(sendWithFds(local, "x", [file]))
        close(file)
        let head = try c.readExactly(8)
        XCTAssertEqual(u32(head, 4), 1, "the file is described")
        let f = try c.readExactly(14)
        let path = try c.readExactly(Int(f[12]) | Int(f[13]) << 8)
        XCTAssertEqual(String(decoding: path, as: UTF8.self), link + "/h")
    }
}
