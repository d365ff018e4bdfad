import Foundation
import XCTest
@testable import QtfsControl
@testable import Qtinfo

/// The control protocol's own JSON against Foundation's JSONEncoder and JSONDecoder: what
/// one side writes the other reads back unchanged, both ways.
final class JSONValueTests: XCTestCase {
    static let response: ControlResponse = {
        var r = ControlResponse(ok: false, error: "a \"quoted\" path\\with\ttab\nand line, é, 😀, \u{1} and /slash")
        var s = Sample.serverStatus
        s.remotePrograms = [RemoteProgramReport(peer: "192.0.2.7:1", dpuPid: 7, hostPid: 8, program: "/bin/sh", uid: 1000,
                                                startedAt: 1_700_000_000.25, bytesIn: UInt64.max, bytesOut: 0)]
        r.status = s
        r.stats = [Sample.lookup, Sample.read]
        r.whitelist = [WhitelistEntry(type: "open", index: -1, path: "/var/lib")]
        r.logLevel = "DEBUG"
        r.savedTo = "/etc/qtfs/whitelist"
        return r
    }()

    /// Foundation's text for `value`, the yardstick both ways.
    func foundationText<T: Encodable>(_ value: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    func testOursReadByFoundation() throws {
        let ours = try JSONValue(encoding: Self.response).text
        let back = try JSONDecoder().decode(ControlResponse.self, from: Data(ours.utf8))
        XCTAssertEqual(try foundationText(back), try foundationText(Self.response))
        let results = try JSONDecoder().decode([ComponentResult].self, from: Data(try JSONValue(encoding: Sample.results).text.utf8))
        XCTAssertEqual(results, Sample.results)
    }

    func testFoundationReadByOurs() throws {
        let text = try foundationText(Self.response)
        let back = try JSONValue.parse(Array(text.utf8)).decode(ControlResponse.self)
        XCTAssertEqual(try foundationText(back), text)
        let req = ControlRequest(command: .whitelistRemove, type: "open", index: 3)
        XCTAssertEqual(try JSONValue.parse(Array(try foundationText(req).utf8)).decode(ControlRequest.self), req)
    }

    func testTextIsCompactSortedAndEscaped() throws {
        let req = ControlRequest(command: .setLogLevel, level: "WARN", path: "/a\"b")
        XCTAssertEqual(try JSONValue(encoding: req).text, #"{"command":"set-log-level","level":"WARN","path":"/a\"b"}"#)
        XCTAssertEqual(JSONValue.string("\u{1}\u{1f}").text, #""\u0001\u001f""#)
    }

    func testEscapesAndSurrogatePairs() throws {
        let v = try JSONValue.parse(Array(#" ["\ud83d\ude00", "\u00e9\/\b\f", true, null, -1.5e3] "#.utf8))
        XCTAssertEqual(v, .array([.string("😀"), .string("é/\u{8}\u{c}"), .bool(true), .null, .number("-1.5e3")]))
    }

    func testMalformedInputIsRefused() {
        let bad = [#"{"command":"status""#, #"{"command":"status"} x"#, #"{"command":"status",}"#, #"["a"#, #""\x""#,
                   #""\ud800""#, "\"a\u{1}\"", "+1", "tru", #"{1:2}"#, "",
                   String(repeating: "[", count: 40) + String(repeating: "]", count: 40)]
        for text in bad {
            XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8)), text)
        }
    }

    func testWrongShapesAreRefused() {
        let bad = [#"{}"#, #"{"command":"reboot"}"#, #"{"command":"status","index":1.5}"#,
                   #"{"command":"status","index":"1"}"#, #"{"command":"status","index":99999999999999999999}"#, #"[]"#]
        for text in bad {
            XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8)).decode(ControlRequest.self), text)
        }
        XCTAssertThrowsError(try JSONValue(encoding: [Double.nan]))
    }
}
