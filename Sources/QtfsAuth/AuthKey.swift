// The pre-shared key of the authentication handshake (docs/protocol.md, "Authentication"):
// loaded from a file only its owner can read, never sent, used only through HMAC-SHA256.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

public struct AuthKeyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

public struct AuthKey: Sendable {
    public static let minBytes = 16
    public static let maxBytes = 64
    /// The documented way to make a key without qtfs-server at hand (coreutils only).
    public static let generateCommand = "(umask 077; od -An -vtx1 -N32 /dev/urandom | tr -d ' \\n' > /etc/qtfs/qtfs.key)"

    let key: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard (AuthKey.minBytes...AuthKey.maxBytes).contains(bytes.count) else {
            throw AuthKeyError("a key must be \(AuthKey.minBytes) to \(AuthKey.maxBytes) bytes (\(2 * AuthKey.minBytes)–\(2 * AuthKey.maxBytes) hex digits), got \(bytes.count)")
        }
        key = bytes
    }

    /// Parses the key file's text: hex digits, whitespace ignored.
    public init(hex text: String) throws {
        var bytes: [UInt8] = []
        var high: UInt8? = nil
        for c in text.utf8 where c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09 {
            guard let v = AuthKey.hexValue(c) else {
                throw AuthKeyError("a key file holds hex digits only (0-9, a-f); found '\(Character(Unicode.Scalar(c)))'")
            }
            if let h = high { bytes.append(h << 4 | v); high = nil } else { high = v }
        }
        guard high == nil else { throw AuthKeyError("a key file needs an even number of hex digits") }
        try self.init(bytes: bytes)
    }

    /// The key as lowercase hex digits (qtfs.ko takes it as its key_hex= mount option).
    public var hexDigits: String { key.map(AuthKey.hex).joined() }

    /// A fresh random key as key-file text (64 hex digits and a newline).
    public static func generateText() -> String {
        randomBytes(32).map(hex).joined() + "\n"
    }

    /// Fresh random nonce.
    public static func nonce() -> [UInt8] { randomBytes(Auth.nonceSize) }

    /// From the system's generator, 8 bytes per call (a UInt8.random per byte made one each).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        while bytes.count < count {
            let word: UInt64 = rng.next()
            bytes += (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) }
        }
        return Array(bytes.prefix(count))
    }

    /// HMAC-SHA256 of a transcript (Auth.transcript).
    public func proof(_ transcript: [UInt8]) -> [UInt8] {
        HMACSHA256.mac(key: key, transcript)
    }

    /// Constant-time check of a peer's proof.
    public func verify(_ proof: [UInt8], _ transcript: [UInt8]) -> Bool {
        proof.count == Auth.proofSize && HMACSHA256.equalInConstantTime(proof, self.proof(transcript))
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}
