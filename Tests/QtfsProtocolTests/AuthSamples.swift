import QtfsProtocol

/// The authentication example of docs/protocol.md: a test key and two fixed nonces, with
/// the proofs HMAC-SHA256 gives for them (checked against swift-crypto by QtfsAuthTests,
/// and by any other implementation against Tests/Vectors/auth-*.vec and *.transcript).
enum AuthSamples {
    /// The test key 00 01 02 … 1f (key file text: "000102…1f").
    static let key: [UInt8] = Array(0..<32)
    static let clientNonce: [UInt8] = (0..<32).map { 0x40 + $0 }
    static let serverNonce: [UInt8] = (0..<32).map { 0x80 + $0 }
    static let serverProof: [UInt8] = [
        0xb7, 0xda, 0x1f, 0x22, 0x5e, 0xa2, 0x9c, 0x3b, 0x5b, 0x47, 0x48, 0xa8, 0xaf, 0x84, 0xdd, 0xbd,
        0xc4, 0x3e, 0x4e, 0xa1, 0x6a, 0x26, 0xfa, 0xb0, 0x31, 0x5f, 0xc2, 0xfe, 0x18, 0x08, 0xa5, 0xac,
    ]
    static let clientProof: [UInt8] = [
        0x23, 0x58, 0x78, 0x38, 0xb6, 0x80, 0x29, 0x61, 0xdb, 0x44, 0xc4, 0xe9, 0x2d, 0x49, 0xae, 0x5a,
        0xff, 0x63, 0x5b, 0x8b, 0x99, 0x24, 0xda, 0x9a, 0x63, 0x45, 0xcc, 0x07, 0x12, 0x95, 0x82, 0x4f,
    ]

    static let frames: [Sample] = [
        Sample("auth-challenge.request", .request, .authChallenge, id: 2, AuthChallengeRequest(clientNonce: clientNonce)),
        Sample("auth-challenge.response", .response, .authChallenge, id: 2,
               AuthChallengeReply(serverNonce: serverNonce, serverProof: serverProof)),
        Sample("auth-response.request", .request, .authResponse, id: 3, AuthResponseRequest(clientProof: clientProof)),
    ]

    static func transcript(_ role: Auth.Role) -> WireWriter {
        Auth.transcript(role: role, version: 1, method: Auth.methodHmacSha256, clientNonce: clientNonce,
                        serverNonce: serverNonce, tracing: true)
    }
}
