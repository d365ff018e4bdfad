import Foundation
import XCTest
@testable import QtfsProtocol

final class VectorTests: XCTestCase {
    /// Every opcode has a request vector (an event opcode, sent only by the server, an
    /// event vector).
    func testEveryOpcodeHasARequestVector() {
        let covered = Set(Samples.all.filter { $0.kind == .request || $0.kind == .event }.map(\.opcode))
        let expected = Set(Opcode.allCases)
        XCTAssertEqual(expected.subtracting(covered), [], "opcodes without a request vector")
    }

    func testVectorsDecodeAndReencode() throws {
        if ProcessInfo.processInfo.environment["QTFS_WRITE_VECTORS"] == "1" {
            try FileManager.default.createDirectory(atPath: VectorFiles.directory, withIntermediateDirectories: true)
            for s in Samples.all {
                try VectorFiles.render(s).write(toFile: "\(VectorFiles.directory)/\(s.name).vec", atomically: true, encoding: .utf8)
            }
        }
        for s in Samples.all {
            let path = "\(VectorFiles.directory)/\(s.name).vec"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let bytes = try XCTUnwrap(VectorFiles.parse(text), "\(s.name): unparsable hex")
            // The committed bytes are what the encoder produces today.
            XCTAssertEqual(bytes, VectorFiles.annotatedFrame(s).bytes, "\(s.name): encoder drifted from the vector")
            // And they decode to the sample's values.
            let header = try bytes.withUnsafeBytes { try FrameHeader.decode($0) }
            XCTAssertEqual(header.kind, s.kind, s.name)
            XCTAssertEqual(header.opcode, s.opcode.rawValue, s.name)
            XCTAssertEqual(header.id, s.id, s.name)
            XCTAssertEqual(Int(header.length), bytes.count - Wire.headerSize, s.name)
            let decoded = try s.decode(Array(bytes[Wire.headerSize...]))
            XCTAssertTrue(s.isEqual(decoded), "\(s.name): decoded \(decoded) != \(s.payload)")
        }
    }

    /// The bytes each authentication proof covers, as annotated files next to the frames
    /// (`.transcript`, not `.vec`: they are not frames).
    func testAuthTranscriptVectors() throws {
        for role in [Auth.Role.server, .client] {
            let w = AuthSamples.transcript(role)
            let path = "\(VectorFiles.directory)/auth-\(role).transcript"
            if ProcessInfo.processInfo.environment["QTFS_WRITE_VECTORS"] == "1" {
                let title = "auth-\(role).transcript: the bytes HMAC-SHA256(key 00 01 .. 1f) covers for the \(role) proof"
                try VectorFiles.render(title: title, w).write(toFile: path, atomically: true, encoding: .utf8)
            }
            let bytes = try XCTUnwrap(VectorFiles.parse(try String(contentsOfFile: path, encoding: .utf8)))
            XCTAssertEqual(bytes, w.bytes, "\(path) drifted from Auth.transcript")
        }
    }

    func testHeaderLayoutIsFixed() throws {
        let frame = FrameHeader.frame(kind: .request, opcode: .lookup, id: 0x0102030405060708,
                                      payload: PathRequest(caller: .root, target: Target(export: 0, "")))
        XCTAssertEqual(Array(frame[0..<4]), Array("QTFS".utf8))
        XCTAssertEqual(frame[4], 1)
        XCTAssertEqual(frame[5], 0)
        XCTAssertEqual(Array(frame[6..<8]), [10, 0])
        XCTAssertEqual(Array(frame[8..<16]), [8, 7, 6, 5, 4, 3, 2, 1])
        XCTAssertEqual(Int(frame[16]), frame.count - 24)
    }
}
