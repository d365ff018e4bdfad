// Rough numbers, not assertions: run with QTFS_BENCH=1 (best in release:
// swift test -c release --scratch-path .build-server --filter BenchTests).
import Foundation
import Glibc
import QtfsProtocol
import XCTest

final class BenchTests: ServerTestCase {
    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["QTFS_BENCH"] == "1" else { throw XCTSkip("set QTFS_BENCH=1") }
        try super.setUpWithError()
    }

    func report(_ name: String, _ n: Int, _ seconds: Double, bytes: Int = 0) {
        let us = seconds / Double(n) * 1e6
        let mbps = bytes > 0 ? String(format: ", %.0f MB/s", Double(bytes) / seconds / 1e6) : ""
        print(String(format: "BENCH %@: %d ops, %.1f µs/op%@", name, n, us, mbps))
    }

    func time(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    func testBenchMetadataAndData() throws {
        let c = try client()
        _ = try c.create("f")
        let n = 20_000
        report("lookup round trip", n, try time { for _ in 0..<n { _ = try c.lookup("f") } })
        let depth = 32
        let frame = c.frame(.lookup, PathRequest(caller: .root, target: c.t("f")), id: 1)
        var batch: [UInt8] = []
        for _ in 0..<depth { batch += frame }
        report("lookup pipelined x\(depth)", n, try time {
            for _ in 0..<(n / depth) {
                try c.sendRaw(batch)
                for _ in 0..<depth { _ = try c.readFrame() }
            }
        })
        let h = try c.open("f", flags: O_RDWR)
        let mib = [UInt8](repeating: 7, count: 1 << 20)
        let m = 256
        report("write 1 MiB", m, try time { for i in 0..<m { _ = try c.write(h, UInt64(i % 16) << 20, mib) } }, bytes: m << 20)
        report("read 1 MiB", m, try time { for i in 0..<m { _ = try c.read(h, UInt64(i % 16) << 20, 1 << 20) } }, bytes: m << 20)
        report("read 4 KiB", n, try time { for i in 0..<n { _ = try c.read(h, UInt64(i % 256) << 12, 4096) } })
        var st = stat()
        report("local fstatat (reference)", n, time { for _ in 0..<n { _ = fstatat(AT_FDCWD, host("f"), &st, AT_SYMLINK_NOFOLLOW) } })
    }
}

extension BenchTests {
    func testBenchReadSizes() throws {
        let c = try client()
        if let v = ProcessInfo.processInfo.environment["QTFS_BENCH_RCVBUF"], var n = Int32(v) {
            setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &n, 4)
        }
        let h = try c.create("f").handle
        _ = try c.write(h, 0, [UInt8](repeating: 1, count: 1 << 20))
        for size in [4096, 65536, 262_144, 1 << 20] {
            let n = max(64, (64 << 20) / size)
            report("read \(size)", n, try time { for _ in 0..<n { _ = try c.read(h, 0, UInt32(size)) } }, bytes: n * size)
            let w = [UInt8](repeating: 2, count: size)
            report("write \(size)", n, try time { for _ in 0..<n { _ = try c.write(h, 0, w) } }, bytes: n * size)
        }
    }
}
