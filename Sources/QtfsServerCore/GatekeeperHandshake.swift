// The Gatekeeper's handshake (docs/protocol.md, "Authentication"): HELLO picks the version
// and the suite; until authentication succeeds only HELLO, AUTH_CHALLENGE and AUTH_RESPONSE
// are looked at; anything else, and every failure, is answered and the connection closed,
// with a log line naming the peer.
import Glibc
import Logging
import QtfsAuth
import QtfsProtocol

extension Gatekeeper {
    static let serverName = "qtfs-swift"

    /// HELLO's capabilities: whether this server asks for authentication.
    var helloCapabilities: UInt64 {
        (admission.key == nil ? 0 : HelloReply.capAuthRequired) | HelloReply.capSockFiles | HelloReply.capOpenAttr
            | HelloReply.capQuietRelease
    }

    func hello(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let req = try? HelloRequest.decode(payload), req.minVersion <= 1, req.maxVersion >= 1 else {
            logger.warning("HELLO refused (no common version or bad payload)", metadata: ["conn.peer": "\(c.peer)"])
            c.enter(.refused)
            return engine.fail(c, h, EPROTO)
        }
        c.security.clientCanAuth = req.capabilities & HelloRequest.capAuthCapable != 0
        c.handles.opensWithAttr = req.capabilities & HelloRequest.capOpenAttr != 0
        c.quietRelease = req.capabilities & HelloRequest.capQuietRelease != 0
        guard chooseSuite(c, offered: req.capabilities, client: req.clientName) else {
            c.enter(.refused)
            return engine.fail(c, h, EACCES)
        }
        c.enter(admission.key == nil ? .open : .authenticating)
        engine.handshakeProgressed(c)
        logger.debug("hello", metadata: ["conn.peer": "\(c.peer)", "client": "\(req.clientName)"])
        let caps = helloCapabilities | (c.security.suite?.capability ?? 0)
        engine.reply(c, h, .hello, HelloReply(version: 1, capabilities: caps, maxPayload: UInt32(config.maxFrame),
                                              serverName: Gatekeeper.serverName))
    }

    /// Handles a frame of a connection that has not authenticated, or an AUTH_* frame.
    func authenticate(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let key = admission.key else { return engine.fail(c, h, EOPNOTSUPP) }
        if c.phase == .open { return refuse(c, h, EPROTO, "authentication repeated") }
        switch Opcode(rawValue: h.opcode) {
        case .authChallenge: challenge(c, h, payload, key)
        case .authResponse: verify(c, h, payload, key)
        default:
            let hint = c.security.clientCanAuth ? "request before authentication" : "client does not authenticate (no key given to it?)"
            refuse(c, h, EACCES, hint)
        }
    }

    private func challenge(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer, _ key: AuthKey) {
        guard c.security.authExchange == nil, let req = try? AuthChallengeRequest.decode(payload) else {
            return refuse(c, h, EPROTO, "malformed or repeated AUTH_CHALLENGE")
        }
        var exchange = ServerAuthExchange()
        guard let answer = exchange.challenge(req, key: key) else {
            return refuse(c, h, EOPNOTSUPP, "unknown authentication method \(req.method)")
        }
        c.security.authExchange = exchange
        engine.reply(c, h, .authChallenge, answer)
    }

    private func verify(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer, _ key: AuthKey) {
        guard let exchange = c.security.authExchange else { return refuse(c, h, EPROTO, "AUTH_RESPONSE without AUTH_CHALLENGE") }
        guard let req = try? AuthResponseRequest.decode(payload), exchange.verify(req, key: key) else {
            return refuse(c, h, EACCES, "wrong key (proof does not match)")
        }
        c.enter(.open)
        c.security.authExchange = nil
        engine.handshakeProgressed(c)
        logger.info("client authenticated", metadata: ["conn.peer": "\(c.peer)", "conn.id": "\(c.id)",
                                                       "crypt": "\(c.security.suite?.description ?? "none")"])
        engine.reply(c, h, .authResponse, EmptyReply())   // the last plain frame: sealing starts after it
        if let suite = c.security.suite, let keys = exchange.sessionKeys(suite, req, key: key) { startSealing(c, keys) }
    }

    /// Answers `errno`, logs, and closes the connection once the answer is sent.
    private func refuse(_ c: Connection, _ h: FrameHeader, _ errno: Int32, _ reason: String) {
        logger.warning("authentication failed, closing", metadata: [
            "conn.peer": "\(c.peer)", "conn.id": "\(c.id)", "req.op": "\(h.opcode)", "reason": "\(reason)",
        ])
        c.enter(.refused)
        engine.fail(c, h, errno)
    }
}
