import Foundation
import Glibc
import XCTest
import QtfsAuth
import QtfsProtocol
@testable import QtfsRelay

/// Sealed relays on the relay thread, over real sockets: what a program at each end sees
/// when the relayed stream arrives whole, altered or cut.
final class SealedRelayTests: XCTestCase {
    static let loop = RelayLoop(name: "sealed relay test")

    /// Log lines of the relays, as the server's logger or stderr would get them.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ s: String) { lock.withLock { lines.append(s) } }
        var all: [String] { lock.withLock { lines } }
    }

    func pair(_ type: __socket_type = SOCK_STREAM) -> (Int32, Int32) {
        var sv: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sv), 0)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        for fd in sv { setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) }
        return (sv[0], sv[1])
    }

    func send(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// One recv: the bytes, or nil with errno on an error (a timeout fails the test).
    func receive(_ fd: Int32, _ max: Int = 1 << 20) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: max)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, max) }
        if n < 0 { XCTAssertNotEqual(errno, EAGAIN, "timed out"); return nil }
        return Array(buf[0..<n])
    }

    /// Reads `fd` until `count` bytes came (or it ended).
    func receive(_ fd: Int32, count: Int) -> [UInt8] {
        var got: [UInt8] = []
        while got.count < count, let b = receive(fd, count - got.count), !b.isEmpty { got += b }
        return got
    }

    /// A program's socket relayed by a sealed relay whose network end the test holds,
    /// with the peer's RelaySeal to talk to it.
    func relayed(_ lines: Lines, type: __socket_type = SOCK_STREAM) throws -> (program: Int32, net: Int32, peer: RelaySeal) {
        let (program, local) = pair(type), (net, relayNet) = pair()
        let (client, server) = try RelaySealTests.ends(.aes256gcm) { lines.add($0) }
        Self.loop.add(local: local, net: relayNet, seqpacket: type == SOCK_SEQPACKET, seal: server)
        return (program, net, client)
    }

    func testRelayedBytesCrossSealedAndEndAsAHalfClose() throws {
        let lines = Lines()
        let (program, net, peer) = try relayed(lines)
        defer { close(program); close(net) }
        let secret = Array("the relayed secret".utf8)
        XCTAssertEqual(send(program, secret), secret.count)
        let wire = receive(net, count: 24 + secret.count + 16)
        XCTAssertNil(wire.firstRange(of: secret), "relayed bytes are not visible on the wire")
        XCTAssertEqual(try RelaySealTests.opened(peer, wire), secret)
        shutdown(program, Int32(SHUT_WR))
        XCTAssertEqual(try RelaySealTests.opened(peer, receive(net, count: 40)), [])
        XCTAssertTrue(peer.endReceived, "the program's end of data is an end frame")

        // The other direction still works, and its end frame gives the program EOF.
        var back = try RelaySealTests.sealed(peer, Array("answer".utf8))
        try peer.sealEnd(into: &back)
        XCTAssertEqual(send(net, back), back.count)
        XCTAssertEqual(receive(program), Array("answer".utf8))
        XCTAssertEqual(receive(program), [], "end of file after the end frame")
        XCTAssertEqual(lines.all, [])
    }

    func testAFlippedBitResetsTheRelayAndNoByteOfItArrives() throws {
        let lines = Lines()
        let (program, net, peer) = try relayed(lines)
        defer { close(program); close(net) }
        var wire = try RelaySealTests.sealed(peer, Array("first".utf8)) + RelaySealTests.sealed(peer, Array("altered".utf8))
        wire[wire.count - 20] ^= 0x04          // a bit of the second frame's ciphertext
        XCTAssertEqual(send(net, wire), wire.count)
        var got: [UInt8] = []
        while let b = receive(program), !b.isEmpty { got += b }
        XCTAssertNil(got.firstRange(of: Array("altered".utf8)), "no altered byte reaches the program")
        XCTAssertEqual(receive(net), [], "the relay closed its network end")
        XCTAssertEqual(send(program, [1]), -1, "the program's socket is closed, not half-closed")
        XCTAssertEqual(errno, EPIPE)
        XCTAssertEqual(lines.all.count, 1)
        XCTAssertTrue(lines.all.first?.contains("sealed frame #2 failed authentication") == true, "\(lines.all)")
        XCTAssertTrue(lines.all.first?.contains("test client") == true, "the line names the peer: \(lines.all)")
    }

    func testAConnectionCutBeforeTheEndFrameIsATruncation() throws {
        let lines = Lines()
        let (program, net, peer) = try relayed(lines)
        defer { close(program) }
        let wire = try RelaySealTests.sealed(peer, Array("partial".utf8))
        XCTAssertEqual(send(net, wire), wire.count)
        close(net)
        XCTAssertEqual(receive(program), Array("partial".utf8))
        XCTAssertEqual(receive(program), [])
        XCTAssertEqual(send(program, [1]), -1, "a truncated relay is closed, not half-closed like an ended one")
        XCTAssertEqual(errno, EPIPE)
        XCTAssertTrue(lines.all.first?.contains("truncated") == true, "\(lines.all)")
    }

    func testAnEndFrameIsAHalfClose() throws {
        let lines = Lines()
        let (program, net, peer) = try relayed(lines)
        defer { close(program); close(net) }
        var wire = try RelaySealTests.sealed(peer, Array("whole".utf8))
        try peer.sealEnd(into: &wire)
        XCTAssertEqual(send(net, wire), wire.count)
        XCTAssertEqual(receive(program), Array("whole".utf8))
        XCTAssertEqual(receive(program), [])
        XCTAssertEqual(send(program, [1]), 1, "after an end frame the program may still send")
        XCTAssertEqual(lines.all, [])
    }

    /// Seqpacket messages and passed files travel inside the sealed stream as without
    /// sealing: two sealed relays back to back, each with its own pair of keys' halves.
    func testFileRecordsTravelInsideTheSealedStream() throws {
        let lines = Lines()
        let (a, aLocal) = pair(SOCK_SEQPACKET), (b, bLocal) = pair(SOCK_SEQPACKET), (n1, n2) = pair()
        defer { close(a); close(b) }
        let (client, server) = try RelaySealTests.ends(.chacha20poly1305) { lines.add($0) }
        Self.loop.add(local: aLocal, net: n1, seqpacket: true, files: PathFiles(), seal: client)
        Self.loop.add(local: bLocal, net: n2, seqpacket: true, files: PathFiles(), seal: server)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(getpid())").path
        try Data("file content".utf8).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let file = open(path, O_RDONLY | O_CLOEXEC)
        XCTAssertEqual(Array("one".utf8).withUnsafeBytes { Rights.send(a, $0, [file]) }, 3)
        close(file)
        XCTAssertEqual(send(a, Array("two".utf8)), 3)

        var fds: [Int32] = [], truncated = false, buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { Rights.receive(b, $0.baseAddress!, 64, fds: &fds, truncated: &truncated) }
        XCTAssertEqual(Array(buf[0..<max(n, 0)]), Array("one".utf8))
        XCTAssertEqual(fds.count, 1)
        if let fd = fds.first {
            XCTAssertEqual(receive(fd), Array("file content".utf8))
            close(fd)
        }
        XCTAssertEqual(receive(b), Array("two".utf8), "message boundaries are kept")
        XCTAssertEqual(lines.all, [])
    }
}

/// Passes regular files by their path, as both sides of one machine see them.
struct PathFiles: FdTranslator {
    func describe(_ fd: Int32) -> Result<PassedFile, FdRefusal> {
        .success(PassedFile(flags: UInt32(bitPattern: fcntl(fd, F_GETFL)), offset: 0, path: Array(FileKind.path(of: fd).utf8)))
    }
    func reopen(_ file: PassedFile) -> Result<Int32, FdRefusal> {
        let fd = open(String(decoding: file.path, as: UTF8.self), FileKind.reopenFlags(file.flags) | O_CLOEXEC)
        return fd >= 0 ? .success(fd) : .failure(FdRefusal("file", "\(errno)"))
    }
    func log(_ line: String) {}
}
