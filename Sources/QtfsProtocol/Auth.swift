// Authentication messages (opcodes 2 and 3) and the exact bytes each proof is computed
// over (docs/protocol.md, "Authentication"). The HMAC itself lives in QtfsAuth, so this
// library stays free of crypto and Foundation; the kernel module builds the same bytes.

public enum Auth {
    /// HMAC-SHA256 over a pre-shared key; the only method of protocol v1.
    public static let methodHmacSha256: UInt16 = 1
    public static let nonceSize = 32
    public static let proofSize = 32
    /// Domain separation: these bytes start every transcript.
    public static let label: [UInt8] = Array("qtfs-auth-v1 hmac-sha256".utf8)
    /// Longest channel binding a transcript carries (a TLS exporter value is 32 bytes).
    public static let maxBinding = 64

    /// Which side a proof comes from. A proof names its author, so a reply cannot be
    /// reflected back to the side that made it.
    public enum Role: UInt8, Sendable {
        case server = 1
        case client = 2
    }

    /// The bytes an HMAC proof covers:
    /// `label role[u8] version[u16] method[u16] client_nonce[32] server_nonce[32] binding[bytes]`.
    /// `binding` is empty on plain TCP; a TLS transport puts its exporter value there.
    public static func transcript(role: Role, version: UInt16, method: UInt16, clientNonce: [UInt8],
                                  serverNonce: [UInt8], binding: [UInt8] = [], tracing: Bool = false) -> WireWriter {
        precondition(clientNonce.count == nonceSize && serverNonce.count == nonceSize && binding.count <= maxBinding)
        var w = WireWriter(capacity: 128, tracing: tracing)
        w.raw(label, "label \"qtfs-auth-v1 hmac-sha256\"")
        w.u8(role.rawValue, "role (1 server proof, 2 client proof)")
        w.u16(version, "protocol version chosen in HELLO")
        w.u16(method, "method (1 HMAC-SHA256)")
        w.raw(clientNonce, "client nonce")
        w.raw(serverNonce, "server nonce")
        w.bytes16(binding, "channel binding (empty on plain TCP)")
        return w
    }
}

/// AUTH_CHALLENGE request: the client's method and fresh nonce.
public struct AuthChallengeRequest: WirePayload {
    public var method: UInt16
    public var clientNonce: [UInt8]
    public init(method: UInt16 = Auth.methodHmacSha256, clientNonce: [UInt8]) {
        self.method = method; self.clientNonce = clientNonce
    }
    public static var unfilled: AuthChallengeRequest { AuthChallengeRequest(clientNonce: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u16(&method, "method (1 HMAC-SHA256)")
        try c.fixed(&clientNonce, count: Auth.nonceSize, "client nonce (32 random bytes)")
    }
}

/// AUTH_CHALLENGE response: the server's fresh nonce and its proof of the key.
public struct AuthChallengeReply: WirePayload {
    public var serverNonce: [UInt8]
    public var serverProof: [UInt8]
    public init(serverNonce: [UInt8], serverProof: [UInt8]) {
        self.serverNonce = serverNonce; self.serverProof = serverProof
    }
    public static var unfilled: AuthChallengeReply { AuthChallengeReply(serverNonce: [], serverProof: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.fixed(&serverNonce, count: Auth.nonceSize, "server nonce (32 random bytes)")
        try c.fixed(&serverProof, count: Auth.proofSize, "server proof HMAC(key, transcript role=1)")
    }
}

/// AUTH_RESPONSE request: the client's proof of the key. The answer is empty (status 0)
/// or EACCES, after which the server closes the connection.
public struct AuthResponseRequest: WirePayload {
    public var clientProof: [UInt8]
    public init(clientProof: [UInt8]) { self.clientProof = clientProof }
    public static var unfilled: AuthResponseRequest { AuthResponseRequest(clientProof: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.fixed(&clientProof, count: Auth.proofSize, "client proof HMAC(key, transcript role=2)")
    }
}
