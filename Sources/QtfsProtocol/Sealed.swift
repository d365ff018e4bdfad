// Sealed frames (docs/protocol.md, "Sealed frames"): the suites, sizes and the exact bytes
// the key derivation and each frame's nonce are made of. The ciphers live in QtfsAuth;
// this library stays free of crypto, and the kernel module builds the same bytes.

public enum Sealed {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16
    /// Domain separation for the key derivation's info.
    public static let label: [UInt8] = Array("qtfs-aead-v1".utf8)

    public enum Suite: UInt16, CaseIterable, Sendable, CustomStringConvertible {
        case aes256gcm = 1
        case chacha20poly1305 = 2

        /// Its HELLO capability bit (the client's offer, the server's choice).
        public var capability: UInt64 {
            switch self {
            case .aes256gcm: HelloReply.capAeadAES256GCM
            case .chacha20poly1305: HelloReply.capAeadChaCha20Poly1305
            }
        }

        public var description: String {
            switch self {
            case .aes256gcm: "aes-256-gcm"
            case .chacha20poly1305: "chacha20-poly1305"
            }
        }
    }

    /// Every suite bit, to tell "offered" or "chose" from other capabilities.
    public static let allCapabilities: UInt64 = Suite.allCases.reduce(0) { $0 | $1.capability }

    /// The suite a server's HELLO answer chose: nil for plaintext, and nil with
    /// `ambiguous` when it set more than one bit (a peer to refuse).
    public static func chosen(by capabilities: UInt64) -> (suite: Suite?, ambiguous: Bool) {
        let set = Suite.allCases.filter { capabilities & $0.capability != 0 }
        return (set.count == 1 ? set[0] : nil, set.count > 1)
    }

    /// Which way a frame travels; part of each key's derivation, so the two directions
    /// never share a key (and a frame cannot be reflected back to its sender).
    public enum Direction: UInt8, Sendable {
        case clientToServer = 1
        case serverToClient = 2
    }

    /// HKDF-Expand's info for one direction:
    /// `"qtfs-aead-v1" direction[u8] suite[u16] server_proof[32] client_proof[32]`.
    /// The proofs are HMACs over the whole handshake transcript (both nonces, version).
    public static func info(_ direction: Direction, _ suite: Suite, serverProof: [UInt8], clientProof: [UInt8]) -> [UInt8] {
        precondition(serverProof.count == Auth.proofSize && clientProof.count == Auth.proofSize)
        var w = WireWriter(capacity: 80)
        w.raw(label, "label")
        w.u8(direction.rawValue, "direction")
        w.u16(suite.rawValue, "suite")
        w.raw(serverProof, "server proof")
        w.raw(clientProof, "client proof")
        return w.bytes
    }

    /// The nonce of the frame a sender numbered `counter`: four zero bytes and the counter
    /// (u64, little-endian). Counters start at 0 in each direction and are never sent.
    public static func nonce(_ counter: UInt64) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: nonceSize)
        setNonce(&n, counter)
        return n
    }

    /// Rewrites a 12-byte nonce buffer (four zero bytes kept) for `counter`.
    public static func setNonce(_ n: inout [UInt8], _ counter: UInt64) {
        for i in 0..<8 { n[4 + i] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(i))) }
    }

    /// The largest `length` a sealed frame's header may carry.
    public static func maxSealedLength(maxPayload: Int = Wire.maxPayload) -> Int { maxPayload + tagSize }
}
