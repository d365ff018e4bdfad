import Foundation
import XCTest
import CQtfsSys
@testable import QtfsServerCore

/// The whitelist's file format and run-time API (what qtinfo drives), and location
/// matching on real directories.
final class WhitelistTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "qtfs-wl-\(UUID().uuidString)"
        for d in ["a/deep/er", "b", "ab"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(d)", withIntermediateDirectories: true) }
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func allowed(_ w: Whitelist, _ kind: Whitelist.Kind, _ rel: String) -> Bool {
        let parts = rel.split(separator: "/")
        let parent = parts.dropLast().joined(separator: "/"), name = String(parts.last!)
        let fd = open("\(dir)/\(parent)", O_PATH | O_DIRECTORY)
        defer { close(fd) }
        return w.allows(kind, dir: fd, name: name)
    }

    func testUpstreamFileParses() throws {
        let w = try Whitelist(text: """
            # comment
            [Open]
            Path=/proc;/sys;/var/lib/libvirt/qemu;
            [Kill]
            Path=qemu-kvm
            [Mount]
            Path = /var/lib/libvirt
            """)
        XCTAssertEqual(w.list().map(\.path), ["/proc", "/sys", "/var/lib/libvirt/qemu", "/var/lib/libvirt", "qemu-kvm"])
        XCTAssertEqual(w.list().map(\.index), [0, 1, 2, 3, 4])
        XCTAssertThrowsError(try Whitelist(text: "[Open]\nPath=relative\n"))
        XCTAssertThrowsError(try Whitelist(text: "[Open]\nPath=/a;/a\n"))
        XCTAssertThrowsError(try Whitelist(text: "Path=/a\n"))
        XCTAssertThrowsError(try Whitelist(text: "[Open]\nFoo=/a\n"))
        XCTAssertThrowsError(try Whitelist(text: "[Open]\nPath=" + (0...64).map { "/p\($0)" }.joined(separator: ";")))
    }

    func testLocationMatching() throws {
        let w = try Whitelist(text: "[Open]\nPath=\(dir)/a\n[Read]\nPath=\(dir)/missing\n")
        XCTAssertTrue(allowed(w, .open, "a/deep/er/file"))
        XCTAssertTrue(allowed(w, .open, "a"))
        XCTAssertFalse(allowed(w, .open, "ab/file"), "string prefix must not match")
        XCTAssertFalse(allowed(w, .open, "b/file"))
        XCTAssertFalse(allowed(w, .write, "a/file"), "a kind without entries allows nothing")
        // A listed path created after loading is found on the next check.
        XCTAssertFalse(allowed(w, .read, "missing/x"))
        try FileManager.default.createDirectory(atPath: "\(dir)/missing", withIntermediateDirectories: false)
        XCTAssertTrue(allowed(w, .read, "missing/x"))
        // Replaced by another directory under the same name: the new one counts, the old one not.
        try FileManager.default.moveItem(atPath: "\(dir)/a", toPath: "\(dir)/old")
        try FileManager.default.createDirectory(atPath: "\(dir)/a", withIntermediateDirectories: false)
        XCTAssertTrue(allowed(w, .open, "a/x"))
        XCTAssertFalse(allowed(w, .open, "old/deep/x"))
    }

    func testRuntimeEditAndSave() throws {
        let file = "\(dir)/whitelist"
        try "[Open]\nPath=\(dir)/a\n".write(toFile: file, atomically: true, encoding: .utf8)
        let w = try Whitelist(file: file)
        try w.add(.write, "\(dir)/b")
        XCTAssertThrowsError(try w.add(.write, "\(dir)/b"), "duplicate")
        XCTAssertThrowsError(try w.add(.write, "not/absolute"))
        XCTAssertTrue(allowed(w, .write, "b/f"))
        XCTAssertEqual(w.list().map(\.kind), [.open, .write])
        try w.remove(index: 0)
        XCTAssertFalse(allowed(w, .open, "a/f"))
        XCTAssertThrowsError(try w.remove(index: 5))
        // Not persisted until asked.
        XCTAssertEqual(try Whitelist(file: file).list().map(\.path), ["\(dir)/a"])
        try w.save()
        XCTAssertEqual(try Whitelist(file: file).list().map(\.path), ["\(dir)/b"])
        w.clear(.write)
        XCTAssertTrue(w.list().isEmpty)
        try w.add(.mount, "/x"); try w.add(.open, "/y")
        w.clear()
        XCTAssertTrue(w.list().isEmpty)
    }

    func testConcurrentEditsAndChecks() throws {
        let w = try Whitelist(text: "[Open]\nPath=\(dir)/a\n")
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for n in 0..<50 {
                if i % 2 == 0 {
                    try? w.add(.read, "/tmp/qtfs-wl-\(i)-\(n)")
                    if let last = w.list().last, last.kind == .read { try? w.remove(index: last.index) }
                } else {
                    XCTAssertTrue(allowed(w, .open, "a/deep/x"))
                }
            }
        }
        XCTAssertEqual(w.list().filter { $0.kind == .open }.count, 1)
    }
}
