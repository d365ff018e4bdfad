import Glibc
import XCTest
@testable import QtfsServerCore

/// How HOST_MOUNT reads mount(2)'s flags and overlayfs's options (the server then confines
/// what these find; Tests/Integration/t59_host_mount.py runs the real mounts).
final class HostMountRulesTests: XCTestCase {
    func testOperationsFollowTheKernelsOrder() {
        func op(_ flags: Int) -> HostMountOperation { HostMountOperation(flags: UInt64(flags)) }
        XCTAssertEqual(op(0), .create)
        XCTAssertEqual(op(MS_RDONLY | MS_NOSUID), .create)
        XCTAssertEqual(op(MS_BIND | MS_REC), .bind)
        XCTAssertEqual(op(MS_REMOUNT | MS_BIND | MS_RDONLY), .reconfigure)
        XCTAssertEqual(op(MS_BIND | MS_PRIVATE), .bind)
        XCTAssertEqual(op(MS_PRIVATE | MS_REC), .propagation)
        XCTAssertEqual(op(MS_MOVE | MS_SLAVE), .propagation)
        XCTAssertEqual(op(MS_MOVE), .move)
        // The old magic number in the high half is dropped, as by the kernel.
        XCTAssertEqual(HostMountOperation(flags: 0xC0ED_0000 | UInt64(MS_BIND)), .bind)
        XCTAssertEqual(HostMountOperation.effectiveFlags(0xC0ED_0000 | 1), 1)
        XCTAssertTrue(op(MS_MOVE).sourceIsHostPath && op(MS_BIND).sourceIsHostPath)
        XCTAssertFalse(op(0).sourceIsHostPath || op(MS_REMOUNT | MS_BIND).sourceIsHostPath)
    }

    private func paths(_ s: String) -> [String] {
        OverlayOptions.paths(Array(s.utf8)).map { "\($0.key) \(String(decoding: $0.path, as: UTF8.self))" }
    }

    func testOverlayLayersAreFoundAsOverlayfsSplitsThem() {
        XCTAssertEqual(paths("lowerdir=/a:/b::/data,upperdir=/u,workdir=/w,index=on,xino=auto"),
                       ["lowerdir /a", "lowerdir /b", "lowerdir /data", "upperdir /u", "workdir /w"])
        XCTAssertEqual(paths(#"lowerdir=/a\:b:/c"#), ["lowerdir /a:b", "lowerdir /c"])
        XCTAssertEqual(paths(#"lowerdir=/a\\:/c"#), [#"lowerdir /a\"#, "lowerdir /c"])
        XCTAssertEqual(paths(#"lowerdir=/a\,upperdir=/x"#), ["lowerdir /a,upperdir=/x"])
        XCTAssertEqual(paths("lowerdir+=/l,datadir+=/d"), ["lowerdir+ /l", "datadir+ /d"])
        XCTAssertEqual(paths("lowerdir=rel,workdir="), ["lowerdir rel"])
        XCTAssertEqual(paths(#"upperdir=/u\"#), ["upperdir /u"])
        XCTAssertEqual(paths(""), [])
    }
}
