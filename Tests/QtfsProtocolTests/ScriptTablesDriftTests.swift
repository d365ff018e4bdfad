import Foundation
import XCTest

/// Python test helpers speak the wire protocol with their own tables (qtfs_raw.py's `OP`,
/// `MAGIC`, `LABEL`). Every such table in a .py file under Tests/ or kmod/ must agree with
/// include/qtfs/qtfs_wire.h; kmod/test/hostile-server.py reads its values from the header
/// instead and so has no table.
final class ScriptTablesDriftTests: XCTestCase {
    static func pythonFiles() -> [String] {
        let root = CHeader.repositoryRoot
        var files: [String] = []
        for dir in ["Tests", "kmod"] {
            guard let walk = FileManager.default.enumerator(atPath: "\(root)/\(dir)") else { continue }
            for case let path as String in walk where path.hasSuffix(".py") { files.append("\(dir)/\(path)") }
        }
        return files.sorted()
    }

    /// `OP = dict(lookup=10, ...)` (over several lines) as ("LOOKUP", "10") pairs.
    static func opTable(_ text: String) -> [(String, String)] { dictTable(text, "OP") }

    /// `NAME = dict(a=1, ...)` (over several lines) as ("A", "1") pairs.
    static func dictTable(_ text: String, _ name: String) -> [(String, String)] {
        guard let start = text.range(of: "\n\(name) = dict(") else { return [] }
        let body = text[start.upperBound...].prefix(while: { $0 != ")" })
        return body.split(separator: ",").compactMap { item in
            let kv = item.split(separator: "=").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            return kv.count == 2 ? (kv[0].uppercased(), kv[1]) : nil
        }
    }

    /// Top-level `NAME = 0x1234` and `NAME = b"text"` lines (without a trailing comment).
    static func scalars(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { line in
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let kv = code.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let first = kv[0].first, first.isUppercase,
                  kv[0].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else { return nil }
            return (kv[0], kv[1])
        }
    }

    /// `123`, `0x7b`, or several of them joined by `|`.
    static func pythonInteger(_ s: String) -> UInt64? {
        var value: UInt64 = 0
        for part in s.split(separator: "|").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let n = part.hasPrefix("0x") ? UInt64(part.dropFirst(2), radix: 16) : UInt64(part) else { return nil }
            value |= n
        }
        return value
    }

    /// Script constants named differently from the header: their header names, OR-ed.
    static let aliases: [String: [String]] = [
        "HEADER": ["QTFS_HDR_SIZE"],
        "SUITE_BITS": ["QTFS_CAP_AEAD_AES256GCM", "QTFS_CAP_AEAD_CHACHA20POLY1305"],
    ]
    /// Numeric script constants that are not the protocol's (a new one must be added to
    /// `aliases` or here, so that none goes unchecked by oversight).
    static let notProtocol: Set<String> = [
        "MNT_DETACH",         // umount2(2)
        "HANDSHAKE_FRAMES",   // how many frames a relay lets pass before it meddles
        "RECORD_MAX",         // how many frames a relay records
    ]

    /// The header's value for a script constant, by its name with QTFS_ or QTFS_AUTH_ in
    /// front or through `aliases`.
    static func headerInteger(_ name: String, _ h: CHeader) -> (cName: String, value: UInt64)? {
        if let names = aliases[name] {
            let values = names.compactMap { h.integers[$0] }
            return values.count == names.count ? (names.joined(separator: "|"), values.reduce(0, |)) : nil
        }
        for cName in ["QTFS_\(name)", "QTFS_AUTH_\(name)"] {
            if let v = h.integers[cName] { return (cName, v) }
        }
        return nil
    }

    /// What one Python file declares against the header: the names it checked and every
    /// disagreement, as "NAME: script X, header Y".
    static func compare(_ text: String, with h: CHeader) -> (checked: [String], drift: [String]) {
        var checked: [String] = [], drift: [String] = []
        for (name, value) in opTable(text) {
            checked.append("OP \(name)")
            let want = h.integers["QTFS_OP_\(name)"]
            if pythonInteger(value) != want {
                drift.append("OP[\(name.lowercased())]: script \(value), header QTFS_OP_\(name) \(want.map(String.init) ?? "undefined")")
            }
        }
        // Only literals: `HEADER = os.path.join(...)` is a path, not a constant.
        for (name, value) in scalars(text) where pythonInteger(value) != nil || value.hasPrefix("b\"") {
            if let (cName, want) = headerInteger(name, h) {
                checked.append(name)
                if pythonInteger(value) != want { drift.append("\(name): script \(value), header \(cName) \(want)") }
            } else if let want = h.strings["QTFS_\(name)"] ?? h.strings["QTFS_AUTH_\(name)"] {
                checked.append(name)
                if value != "b\"\(want)\"" { drift.append("\(name): script \(value), header \"\(want)\"") }
            } else if pythonInteger(value) != nil, !notProtocol.contains(name) {
                drift.append("\(name) = \(value): no header constant; map it in ScriptTablesDriftTests.aliases or list it in notProtocol")
            }
        }
        return (checked, drift)
    }

    /// Linux's numbers for the errno names scripts use (qtfs_raw.py's `E`): the protocol
    /// sends Linux errno values.
    static let linuxErrno: [String: Int32] = [
        "EPERM": EPERM, "ENOENT": ENOENT, "EIO": EIO, "EBADF": EBADF, "EACCES": EACCES, "EBUSY": EBUSY,
        "EEXIST": EEXIST, "EXDEV": EXDEV, "ENOTDIR": ENOTDIR, "EISDIR": EISDIR, "EINVAL": EINVAL, "EMFILE": EMFILE,
        "EROFS": EROFS, "ENAMETOOLONG": ENAMETOOLONG, "ENOSYS": ENOSYS, "ELOOP": ELOOP, "ENODATA": ENODATA,
        "EPROTO": EPROTO, "EOPNOTSUPP": EOPNOTSUPP, "EAGAIN": EAGAIN, "EINTR": EINTR, "ENOTEMPTY": ENOTEMPTY,
    ]

    /// Disagreements of a script's `E = dict(...)` with Linux's errno numbers.
    static func errnoDrift(_ text: String) -> [String] {
        dictTable(text, "E").compactMap { name, value in
            guard let want = linuxErrno[name] else { return "E[\(name)]: not in ScriptTablesDriftTests.linuxErrno; add it" }
            return pythonInteger(value) == UInt64(want) ? nil : "E[\(name)]: script \(value), Linux \(want)"
        }
    }

    func testPythonErrnoTablesMatchLinux() throws {
        var seen = 0
        for file in Self.pythonFiles() {
            let text = try String(contentsOfFile: "\(CHeader.repositoryRoot)/\(file)", encoding: .utf8)
            seen += Self.dictTable(text, "E").count
            XCTAssertEqual(Self.errnoDrift(text), [], "\(file): errno table")
        }
        XCTAssertGreaterThanOrEqual(seen, 10, "qtfs_raw.py's E table was not found")
        XCTAssertEqual(Self.errnoDrift("\nE = dict(EPERM=1, ENOENT=3,\n         EWHAT=9)\n").count, 2)
    }

    func testPythonTablesMatchTheHeader() throws {
        let h = try CHeader(path: "\(CHeader.repositoryRoot)/include/qtfs/qtfs_wire.h")
        var rawChecked: [String] = []
        for file in Self.pythonFiles() {
            let text = try String(contentsOfFile: "\(CHeader.repositoryRoot)/\(file)", encoding: .utf8)
            let (checked, drift) = Self.compare(text, with: h)
            XCTAssertEqual(drift, [], "\(file) disagrees with include/qtfs/qtfs_wire.h")
            if file == "Tests/Integration/qtfs_raw.py" { rawChecked = checked }
        }
        // The scan itself must work: qtfs_raw.py's opcode table and magic are always there.
        XCTAssertGreaterThanOrEqual(rawChecked.filter { $0.hasPrefix("OP ") }.count, 30, "qtfs_raw.py's OP table was not found")
        XCTAssertTrue(rawChecked.contains("MAGIC") && rawChecked.contains("LABEL"), "qtfs_raw.py's MAGIC or LABEL was not found")
    }

    func testADriftedTableIsReported() throws {
        let h = try CHeader(path: "\(CHeader.repositoryRoot)/include/qtfs/qtfs_wire.h")
        let drifted = "\nMAGIC = 0x53465452\nLABEL = b\"qtfs-auth-v2\"\nOP = dict(hello=1,\n          lookup=11)\n"
        let (checked, drift) = Self.compare(drifted, with: h)
        XCTAssertEqual(checked, ["OP HELLO", "OP LOOKUP", "MAGIC", "LABEL"])
        XCTAssertEqual(drift.count, 3, "\(drift)")   // lookup, MAGIC and LABEL; hello=1 is right
        // Constants named otherwise are checked through `aliases`; a numeric one the test
        // cannot place is reported rather than skipped.
        let renamed = "\nHEADER = 25\nSUITE_BITS = 8 | 16   # both suites\nWINDOW = 4096\nMNT_DETACH = 2\n"
        let (renamedChecked, renamedDrift) = Self.compare(renamed, with: h)
        XCTAssertEqual(renamedChecked, ["HEADER", "SUITE_BITS"])
        XCTAssertEqual(renamedDrift.count, 2, "\(renamedDrift)")   // HEADER is 24; WINDOW is no header constant
    }
}
