import XCTest
@testable import QtfsClient

final class MountRouteTests: XCTestCase {
    let withModule = "nodev\tsysfs\nnodev\tproc\nnodev\tqtfs\n\text4\n"
    let withoutModule = "nodev\tsysfs\nnodev\tfuse\n\text4\nnodev\tqtfsx\n"
    let noResolve: (String) -> String? = { _ in nil }

    func route(_ argv: [String], _ fs: String? = nil, resolve: ((String) -> String?)? = nil) -> MountRoute {
        MountRouter.route(argv: argv, filesystems: fs ?? withModule, resolve: resolve ?? noResolve)
    }

    func kernel(_ r: MountRoute, file: StaticString = #filePath, line: UInt = #line) -> KernelMountRequest? {
        guard case .kernel(let req) = r else { XCTFail("expected the module, got \(r)", file: file, line: line); return nil }
        return req
    }

    func testModuleListedMeansKernelMount() throws {
        let req = try XCTUnwrap(kernel(route(["/sbin/mount.qtfs", "/srv", "/mnt/h", "-o", "server=10.0.0.1:9000,proc"])))
        XCTAssertEqual(req.source, "/srv")
        XCTAssertEqual(req.target, "/mnt/h")
        XCTAssertEqual(req.data, "server=10.0.0.1:9000,proc")
        XCTAssertEqual(req.flags, 0)
    }

    func testNoModuleMeansFuse() {
        XCTAssertEqual(route(["mount.qtfs", "/srv", "/mnt", "-o", "server=10.0.0.1"], withoutModule), .fuse)
        XCTAssertEqual(route(["mount.qtfs", "/srv", "/mnt"], ""), .fuse)
    }

    func testFuseOptionForcesFuse() {
        XCTAssertEqual(route(["mount.qtfs", "/srv", "/mnt", "-o", "server=10.0.0.1,fuse"]), .fuse)
        XCTAssertEqual(route(["mount.qtfs", "/srv", "/mnt", "-ofuse"]), .fuse)
    }

    func testOnlyTheHelperNameChoosesTheModule() {
        XCTAssertEqual(route(["qtfs-fuse", "-o", "server=10.0.0.1", "/srv", "/mnt"]), .fuse)
        XCTAssertEqual(route(["/usr/bin/qtfs-fuse", "/srv", "/mnt"]), .fuse)
    }

    func testFlagsBecomeMountBitsAndUserspaceWordsAreDropped() throws {
        let argv = ["mount.qtfs", "/srv", "/mnt", "-sv", "-o", "ro,nosuid,nodev,noexec,_netdev,defaults,x-systemd.automount,comment=x,attr_timeout=0.5", "-o", "noatime"]
        let req = try XCTUnwrap(kernel(route(argv)))
        XCTAssertEqual(req.flags, 1 | 2 | 4 | 8 | 1024)
        XCTAssertEqual(req.data, "attr_timeout=0.5")
        XCTAssertTrue(req.verbose)
        XCTAssertFalse(req.fake)
    }

    func testLaterWordWinsAndRemount() throws {
        let req = try XCTUnwrap(kernel(route(["mount.qtfs", "/srv", "/mnt", "-o", "ro,rw,remount,attr_timeout_ms=5"])))
        XCTAssertEqual(req.flags, 32)
        XCTAssertEqual(req.data, "attr_timeout_ms=5")
    }

    func testFakeFlagAndTypeArgument() throws {
        let req = try XCTUnwrap(kernel(route(["mount.qtfs", "/srv", "/mnt", "-f", "-t", "qtfs", "-o", "server=1.2.3.4"])))
        XCTAssertTrue(req.fake)
        XCTAssertEqual(req.data, "server=1.2.3.4")
    }

    func testHostNameIsResolvedOrLeftToFuse() throws {
        let argv = ["mount.qtfs", "/srv", "/mnt", "-o", "server=dpu-host:777"]
        let req = try XCTUnwrap(kernel(route(argv, resolve: { $0 == "dpu-host" ? "192.168.1.9" : nil })))
        XCTAssertEqual(req.data, "server=192.168.1.9:777")
        XCTAssertEqual(route(argv), .fuse)
        XCTAssertEqual(route(["mount.qtfs", "/srv", "/mnt", "-o", "server=[::1]:5"]), .fuse)
    }

    func testKeyFileIsReadByTheHelperNotPassedAsIs() throws {
        let req = try XCTUnwrap(kernel(route(["mount.qtfs", "/srv", "/mnt", "-o", "server=1.2.3.4,key=/etc/qtfs/qtfs.key,proc"])))
        XCTAssertEqual(req.keyFile, "/etc/qtfs/qtfs.key")
        XCTAssertEqual(req.data, "server=1.2.3.4,proc")
    }

    func testBadCommandLineIsLeftToTheFuseParser() {
        XCTAssertEqual(route(["mount.qtfs", "/srv"]), .fuse)
        XCTAssertEqual(route(["mount.qtfs", "--help"]), .fuse)
        XCTAssertEqual(route(["mount.qtfs", "/srv", "/mnt", "-o"]), .fuse)
    }

    func testFilesystemsMatchIsExact() {
        XCTAssertTrue(MountRouter.kernelHasQtfs("nodev\tqtfs\n"))
        XCTAssertTrue(MountRouter.kernelHasQtfs("nodev\tproc\nnodev qtfs"))
        XCTAssertFalse(MountRouter.kernelHasQtfs("nodev\tqtfsx\nnodev\tfuse.qtfs\n"))
        XCTAssertFalse(MountRouter.isDottedIPv4("1.2.3"))
        XCTAssertFalse(MountRouter.isDottedIPv4("1.2.3.256"))
        XCTAssertTrue(MountRouter.isDottedIPv4("10.0.2.2"))
    }
}
