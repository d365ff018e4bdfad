// The authentication step of a connection (docs/protocol.md, "Authentication"): until it
// succeeds only HELLO, AUTH_CHALLENGE and AUTH_RESPONSE are looked at; anything else,
// and every failure, is answered and the connection closed, with a log line naming the peer.
import Glibc
import Logging
import QtfsAuth
import QtfsProtocol

extension Engine {
    /// HELLO's capabilities: whether this server asks for authentication.
    var helloCapabilities: UInt64 { (admission.key == nil ? 0 : HelloReply.capAuthRequired) | HelloReply.capSockFiles }

    /// Handles a frame of a connection that has not authenticated, or an AUTH_* frame.
    func authenticate(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let key = admission.key else { return fail(c, h, EOPNOTSUPP) }
        if c.phase == .open { return refuse(c, h, EPROTO, "authentication repeated") }
        switch Opcode(rawValue: h.opcode) {
        case .authChallenge:
            guard c.authExchange == nil, let req = try? AuthChallengeRequest.decode(payload) else {
                return refuse(c, h, EPROTO, "malformed or repeated AUTH_CHALLENGE")
            }
            var exchange = ServerAuthExchange()
            guard let answer = exchange.challenge(req, key: key) else {
                return refuse(c, h, EOPNOTSUPP, "unknown authentication method \(req.method)")
            }
            c.authExchange = exchange
            reply(c, h, .authChallenge, answer)
        case .authResponse:
            guard let exchange = c.authExchange else { return refuse(c, h, EPROTO, "AUTH_RESPONSE without AUTH_CHALLENGE") }
            guard let req = try? AuthResponseRequest.decode(payload), exchange.verify(req, key: key) else {
                return refuse(c, h, EACCES, "wrong key (proof does not match)")
            }
            c.enter(.open)
            c.authExchange = nil
            handshakeProgressed(c)
            logger.info("client authenticated", metadata: ["conn.peer": "\(c.peer)", "conn.id": "\(c.id)",
                                                           "crypt": "\(c.suite?.description ?? "none")"])
            reply(c, h, .authResponse, EmptyReply())   // the last plain frame: sealing starts after it
            if let suite = c.suite, let keys = exchange.sessionKeys(suite, req, key: key) { startSealing(c, keys) }
        default:
            let hint = c.clientCanAuth ? "request before authentication" : "client does not authenticate (no key given to it?)"
            refuse(c, h, EACCES, hint)
        }
    }

    /// Answers `errno`, logs, and closes the connection once the answer is sent.
    private func refuse(_ c: Connection, _ h: FrameHeader, _ errno: Int32, _ reason: String) {
        logger.warning("authentication failed, closing", metadata: [
            "conn.peer": "\(c.peer)", "conn.id": "\(c.id)", "req.op": "\(h.opcode)", "reason": "\(reason)",
        ])
        c.enter(.refused)
        fail(c, h, errno)
    }
}
