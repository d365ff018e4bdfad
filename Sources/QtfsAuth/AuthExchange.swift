// Both sides of the challenge-response (docs/protocol.md, "Authentication"), without I/O:
// the server's connection state and the client's handshake drive these.
import QtfsProtocol

/// The server's half for one connection.
public struct ServerAuthExchange: Sendable {
    public let version: UInt16
    private var clientNonce: [UInt8]?
    private let serverNonce: [UInt8]

    public init(version: UInt16 = 1, serverNonce: [UInt8] = AuthKey.nonce()) {
        self.version = version; self.serverNonce = serverNonce
    }

    /// Answers AUTH_CHALLENGE; nil for a method this server does not speak.
    public mutating func challenge(_ req: AuthChallengeRequest, key: AuthKey) -> AuthChallengeReply? {
        guard req.method == Auth.methodHmacSha256 else { return nil }
        clientNonce = req.clientNonce
        let t = Auth.transcript(role: .server, version: version, method: req.method,
                                clientNonce: req.clientNonce, serverNonce: serverNonce)
        return AuthChallengeReply(serverNonce: serverNonce, serverProof: key.proof(t.bytes))
    }

    /// Checks AUTH_RESPONSE: false without a preceding challenge or for a wrong proof.
    public func verify(_ req: AuthResponseRequest, key: AuthKey) -> Bool {
        guard let clientNonce else { return false }
        let t = Auth.transcript(role: .client, version: version, method: Auth.methodHmacSha256,
                                clientNonce: clientNonce, serverNonce: serverNonce)
        return key.verify(req.clientProof, t.bytes)
    }

    /// The session keys once `verify` accepted `req` (docs/protocol.md, "Keys").
    public func sessionKeys(_ suite: Sealed.Suite, _ req: AuthResponseRequest, key: AuthKey) -> SessionKeys? {
        guard let clientNonce else { return nil }
        let t = Auth.transcript(role: .server, version: version, method: Auth.methodHmacSha256,
                                clientNonce: clientNonce, serverNonce: serverNonce)
        return SessionKeys(key: key, suite: suite, clientNonce: clientNonce, serverNonce: serverNonce,
                           serverProof: key.proof(t.bytes), clientProof: req.clientProof)
    }
}

/// The client's half.
public struct ClientAuthExchange: Sendable {
    public let version: UInt16
    public let clientNonce: [UInt8]

    public init(version: UInt16 = 1, clientNonce: [UInt8] = AuthKey.nonce()) {
        self.version = version; self.clientNonce = clientNonce
    }

    public var challenge: AuthChallengeRequest { AuthChallengeRequest(clientNonce: clientNonce) }

    /// Checks the server's proof; returns the client's proof, or nil when the server
    /// does not hold the key (the client must then close without answering).
    public func respond(to reply: AuthChallengeReply, key: AuthKey) -> AuthResponseRequest? {
        let server = Auth.transcript(role: .server, version: version, method: Auth.methodHmacSha256,
                                     clientNonce: clientNonce, serverNonce: reply.serverNonce)
        guard key.verify(reply.serverProof, server.bytes) else { return nil }
        let mine = Auth.transcript(role: .client, version: version, method: Auth.methodHmacSha256,
                                   clientNonce: clientNonce, serverNonce: reply.serverNonce)
        return AuthResponseRequest(clientProof: key.proof(mine.bytes))
    }

    /// The session keys after the server accepted `response` (its answer to `reply`).
    public func sessionKeys(_ suite: Sealed.Suite, _ reply: AuthChallengeReply, _ response: AuthResponseRequest,
                            key: AuthKey) -> SessionKeys {
        SessionKeys(key: key, suite: suite, clientNonce: clientNonce, serverNonce: reply.serverNonce,
                    serverProof: reply.serverProof, clientProof: response.clientProof)
    }
}
