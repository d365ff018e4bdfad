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
    static func opTable(_ text: String) -> [(String, String)] {
        guard let start = text.range(of: "\nOP = dict(") else { return [] }
        let body = text[start.upperBound...].prefix(while: { $0 != ")" })
        return body.split(separator: ",").compactMap { item in
            let kv = item.split(separator: "=").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            return kv.count == 2 ? (kv[0].uppercased(), kv[1]) : nil
        }
    }

    /// Top-level `NAME = 0x1234` and `NAME = b"text"` lines.
    static func scalars(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { line in
            let kv = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let first = kv[0].first, first.isUppercase,
                  kv[0].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else { return nil }
            return (kv[0], kv[1])
        }
    }

    static func pythonInteger(_ s: String) -> UInt64? {
        s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
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
        for (name, value) in scalars(text) {
            for cName in ["QTFS_\(name)", "QTFS_AUTH_\(name)"] {
                if let want = h.integers[cName] {
                    checked.append(name)
                    if pythonInteger(value) != want { drift.append("\(name): script \(value), header \(cName) \(want)") }
                } else if let want = h.strings[cName] {
                    checked.append(name)
                    if value != "b\"\(want)\"" { drift.append("\(name): script \(value), header \(cName) \"\(want)\"") }
                }
            }
        }
        return (checked, drift)
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
    }
}
