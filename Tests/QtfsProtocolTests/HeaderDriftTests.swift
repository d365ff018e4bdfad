import Foundation
import XCTest
@testable import QtfsProtocol

/// include/qtfs/qtfs_wire.h is the one C declaration of the protocol (the kernel module and
/// the C codec build from it). These tests fail on any disagreement between it and the
/// Swift codec, docs/protocol.md's opcode table, or a Python test helper's tables.
final class HeaderDriftTests: XCTestCase {
    static let root = CHeader.repositoryRoot

    private func header() throws -> CHeader {
        try CHeader(path: "\(Self.root)/include/qtfs/qtfs_wire.h")
    }

    /// QTFS_OP_LOOKUP_THING <-> lookupThing
    static func swiftCaseName(_ cName: String) -> String {
        let words = cName.dropFirst("QTFS_OP_".count).lowercased().split(separator: "_")
        return words.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.capitalized }.joined()
    }

    func testOpcodesMatchTheSwiftEnum() throws {
        let h = try header()
        let limit = try XCTUnwrap(h.integers["QTFS_OP_MAX"], "QTFS_OP_MAX missing from the header")
        let cOps = h.integers.filter { $0.key.hasPrefix("QTFS_OP_") && $0.key != "QTFS_OP_MAX" }
        var c: [String: UInt64] = [:]
        for (name, value) in cOps { c[Self.swiftCaseName(name)] = value }
        var swift: [String: UInt64] = [:]
        for op in Opcode.allCases {
            swift["\(op)"] = UInt64(op.rawValue)
            XCTAssertLessThan(UInt64(op.rawValue), limit, "Opcode.\(op) is not below QTFS_OP_MAX")
        }
        XCTAssertFalse(c.isEmpty, "no QTFS_OP_* constants parsed from the header")
        XCTAssertEqual(Self.differences(c, "enum qtfs_op", swift, "Opcode (Frame.swift)"), [])
    }

    /// "name: <a> 3, <b> 4" for every name the two tables do not agree on.
    static func differences(_ a: [String: UInt64], _ aName: String, _ b: [String: UInt64], _ bName: String) -> [String] {
        Set(a.keys).union(b.keys).sorted().compactMap { k in
            a[k] == b[k] ? nil : "\(k): \(aName) \(a[k].map(String.init) ?? "-"), \(bName) \(b[k].map(String.init) ?? "-")"
        }
    }

    func testFrameKindsMatch() throws {
        let h = try header()
        XCTAssertEqual(h.integers["QTFS_KIND_REQ"], UInt64(FrameKind.request.rawValue))
        XCTAssertEqual(h.integers["QTFS_KIND_RSP"], UInt64(FrameKind.response.rawValue))
        XCTAssertEqual(h.integers["QTFS_KIND_EVENT"], UInt64(FrameKind.event.rawValue))
        XCTAssertEqual(h.integers["QTFS_KIND_STREAM"], UInt64(FrameKind.stream.rawValue))
        XCTAssertNil(FrameKind(rawValue: 4), "the Swift side has a frame kind the header lacks")
    }

    /// Every numeric #define of the header, with the Swift value it must equal. A new define
    /// without an entry here fails, so the two sides cannot grow apart silently.
    static let swiftValues: [String: UInt64] = [
        "QTFS_MAGIC": UInt64(Wire.magic),
        "QTFS_VERSION": UInt64(Wire.version),
        "QTFS_HDR_SIZE": UInt64(Wire.headerSize),
        "QTFS_MAX_IO": UInt64(Wire.maxIOSize),
        "QTFS_MAX_PAYLOAD": UInt64(Wire.maxPayload),
        "QTFS_MAX_PATH": UInt64(Wire.maxPath),
        "QTFS_MAX_NAME": UInt64(Wire.maxName),
        "QTFS_MAX_GROUPS": UInt64(Wire.maxGroups),
        "QTFS_MAX_XATTR_NAME": UInt64(Wire.maxXattrName),
        "QTFS_MAX_XATTR_VALUE": UInt64(Wire.maxXattrValue),
        "QTFS_MAX_OPEN_CONTENT": UInt64(Wire.maxOpenContent),
        "QTFS_ATTR_SIZE": UInt64(attrSize),
        "QTFS_DEFAULT_PORT": UInt64(Wire.defaultPort),
        "QTFS_CAP_AUTH": HelloRequest.capAuthCapable,
        "QTFS_CAP_TLS": HelloReply.capTLS,
        "QTFS_AUTH_METHOD_HMAC_SHA256": UInt64(Auth.methodHmacSha256),
        "QTFS_AUTH_NONCE": UInt64(Auth.nonceSize),
        "QTFS_AUTH_PROOF": UInt64(Auth.proofSize),
        "QTFS_AUTH_ROLE_SERVER": UInt64(Auth.Role.server.rawValue),
        "QTFS_AUTH_ROLE_CLIENT": UInt64(Auth.Role.client.rawValue),
        // QtfsAuth is not a dependency of this target: its limits are read from the source.
        "QTFS_AUTH_KEY_MIN": swiftStaticLet("Sources/QtfsAuth/AuthKey.swift", "minBytes"),
        "QTFS_AUTH_KEY_MAX": swiftStaticLet("Sources/QtfsAuth/AuthKey.swift", "maxBytes"),
        "QTFS_AUTH_MAX_BINDING": UInt64(Auth.maxBinding),
        "QTFS_AUTH_TRANSCRIPT_LEN": UInt64(transcriptLength),
        "QTFS_ATTR_PSEUDO": UInt64(Attr.flagPseudo),
        "QTFS_OPEN_DIRECT_IO": UInt64(OpenReply.directIO),
        "QTFS_OPEN_NONSEEKABLE": UInt64(OpenReply.nonSeekable),
        "QTFS_OPEN_KEEP_CACHE": UInt64(OpenReply.keepCache),
        "QTFS_OPEN_HAS_CONTENT": UInt64(OpenReadReply.hasContent),
        "QTFS_OPEN_HAS_ATTR": UInt64(OpenReply.hasAttr),
        "QTFS_CAP_OPEN_ATTR": HelloReply.capOpenAttr,
        "QTFS_CAP_QUIET_RELEASE": HelloReply.capQuietRelease,
        "QTFS_SET_MODE": UInt64(SetattrRequest.Valid.mode.rawValue),
        "QTFS_SET_UID": UInt64(SetattrRequest.Valid.uid.rawValue),
        "QTFS_SET_GID": UInt64(SetattrRequest.Valid.gid.rawValue),
        "QTFS_SET_SIZE": UInt64(SetattrRequest.Valid.size.rawValue),
        "QTFS_SET_ATIME": UInt64(SetattrRequest.Valid.atime.rawValue),
        "QTFS_SET_MTIME": UInt64(SetattrRequest.Valid.mtime.rawValue),
        "QTFS_SET_ATIME_NOW": UInt64(SetattrRequest.Valid.atimeNow.rawValue),
        "QTFS_SET_MTIME_NOW": UInt64(SetattrRequest.Valid.mtimeNow.rawValue),
        "QTFS_SET_ALL": UInt64(SetattrRequest.Valid.all),
        "QTFS_RENAME_NOREPLACE": UInt64(TwoPathRequest.renameNoReplace),
        "QTFS_RENAME_EXCHANGE": UInt64(TwoPathRequest.renameExchange),
        "QTFS_RENAME_WHITEOUT": UInt64(TwoPathRequest.renameWhiteout),
        "QTFS_STREAM_NOWAIT": StreamOffset.noWait,
        "QTFS_SOCK_STREAM": UInt64(SockConnectRequest.stream),
        "QTFS_SOCK_SEQPACKET": UInt64(SockConnectRequest.seqpacket),
        "QTFS_SOCK_PASS_FILES": UInt64(SockConnectRequest.passFiles),
        "QTFS_CAP_SOCK_FILES": HelloReply.capSockFiles,
        "QTFS_CAP_AEAD_AES256GCM": HelloReply.capAeadAES256GCM,
        "QTFS_CAP_AEAD_CHACHA20POLY1305": HelloReply.capAeadChaCha20Poly1305,
        "QTFS_AEAD_SUITE_AES256GCM": UInt64(Sealed.Suite.aes256gcm.rawValue),
        "QTFS_AEAD_SUITE_CHACHA20POLY1305": UInt64(Sealed.Suite.chacha20poly1305.rawValue),
        "QTFS_AEAD_KEY": UInt64(Sealed.keySize),
        "QTFS_AEAD_NONCE": UInt64(Sealed.nonceSize),
        "QTFS_AEAD_TAG": UInt64(Sealed.tagSize),
    ]

    /// The integer of `static let NAME = 123` in a Swift source file (0 when absent: the
    /// comparison then fails and names the constant).
    static func swiftStaticLet(_ file: String, _ name: String) -> UInt64 {
        let text = (try? String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            guard let r = line.range(of: "static let \(name) = ") else { continue }
            return UInt64(line[r.upperBound...].prefix(while: \.isNumber)) ?? 0
        }
        return 0
    }

    static var attrSize: Int {
        var w = WireWriter()
        Attr().encode(into: &w)
        return w.bytes.count
    }

    static var transcriptLength: Int {
        let nonce = [UInt8](repeating: 0, count: Auth.nonceSize)
        return Auth.transcript(role: .client, version: 1, method: Auth.methodHmacSha256,
                               clientNonce: nonce, serverNonce: nonce).bytes.count
    }

    func testConstantsMatchSwift() throws {
        let h = try header()
        XCTAssertEqual(h.unreadable, [:], "#defines this test cannot evaluate: teach CHeader or simplify them")
        let defines = h.integers.filter { h.order.contains($0.key) && !$0.key.hasPrefix("QTFS_OP_") && !$0.key.hasPrefix("QTFS_KIND_") }
        for (name, value) in defines.sorted(by: { $0.key < $1.key }) {
            guard let swift = Self.swiftValues[name] else {
                XCTFail("\(name) = \(value) in include/qtfs/qtfs_wire.h has no Swift counterpart in HeaderDriftTests.swiftValues")
                continue
            }
            XCTAssertEqual(value, swift, "\(name): header \(value), Swift \(swift)")
        }
        for name in Self.swiftValues.keys.sorted() where defines[name] == nil {
            XCTFail("\(name) is no longer defined in include/qtfs/qtfs_wire.h")
        }
    }

    /// QTFS_CAP_AUTH is one bit with a meaning per direction; the table above holds the
    /// client's, this the server's.
    func testServerAuthCapabilityMatches() throws {
        XCTAssertEqual(try header().integers["QTFS_CAP_AUTH"], HelloReply.capAuthRequired)
    }

    func testStringsMatchSwift() throws {
        let h = try header()
        XCTAssertEqual(h.strings["QTFS_AUTH_LABEL"].map { Array($0.utf8) }, Auth.label)
        XCTAssertEqual(Set(h.strings.keys), ["QTFS_AUTH_LABEL"], "a string #define without a check here")
    }

    /// qtinfo's netlink shim declares the histogram size for Swift (it cannot import the
    /// kernel header's enum); it must be the module's.
    func testNetlinkShimMatchesTheGenlHeader() throws {
        let genl = try CHeader(path: "\(Self.root)/include/qtfs/qtfs_genl.h")
        let shim = try CHeader(path: "\(Self.root)/Sources/CNetlink/include/CNetlink.h")
        let buckets = try XCTUnwrap(genl.integers["QTFS_HIST_MAX_BUCKETS"])
        XCTAssertEqual(shim.integers["QTFS_NL_HIST_BUCKETS"], buckets)
    }

    /// docs/protocol.md's "Operations" table: `| NAME | code | ...`.
    func testProtocolDocumentListsTheHeaderOpcodes() throws {
        let h = try header()
        let doc = try String(contentsOfFile: "\(Self.root)/docs/protocol.md", encoding: .utf8)
        var documented: [String: UInt64] = [:]
        for line in doc.split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[0].allSatisfy({ $0.isUppercase || $0 == "_" }),
                  let code = UInt64(cells[1]) else { continue }
            documented["QTFS_OP_" + cells[0]] = code
        }
        let cOps = h.integers.filter { $0.key.hasPrefix("QTFS_OP_") && $0.key != "QTFS_OP_MAX" }
        XCTAssertEqual(Self.differences(documented, "docs/protocol.md", cOps, "enum qtfs_op"), [])
    }
}
