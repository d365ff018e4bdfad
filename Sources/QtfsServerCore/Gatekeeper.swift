// The authentication/admission part of the engine: who may connect and how. It owns the
// admission settings (client address allow-list, key, crypt mode) and each connection's
// security state (`ConnectionSecurity`: the handshake's exchange, the suite, the sealer and
// opener), and checks the connection-level limits here: connections per address, and the
// handshake and idle timeouts (checked once a second). The handshake is in
// GatekeeperHandshake.swift, sealed frames in GatekeeperSealing.swift.
import Glibc
import Logging
import QtfsAuth
import QtfsProtocol
import QtfsSystem

/// A connection's handshake and sealing state; only the Gatekeeper touches it.
final class ConnectionSecurity {
    var authExchange: ServerAuthExchange?
    /// The client said in HELLO that it can authenticate (for a clearer log line).
    var clientCanAuth = false
    /// The suite chosen in HELLO; sealing starts after AUTH_RESPONSE (GatekeeperSealing.swift).
    var suite: Sealed.Suite?
    /// Seals every frame queued after the answer to AUTH_RESPONSE, in queue order.
    var sealer: FrameSealer?
    /// Opens every frame received after AUTH_RESPONSE.
    var opener: FrameOpener?
}

final class Gatekeeper {
    let admission: Admission
    /// Set by the engine once it is made (it makes its gatekeeper first); it owns this
    /// part (Engine.swift, "parts").
    unowned(unsafe) var engine: Engine!
    let logger: Logger
    var config: ServerConfig { engine.config }

    init(admission: Admission, logger: Logger) { self.admission = admission; self.logger = logger }

    /// Whether a freshly accepted peer may stay, beside the open connections `conns`; logs why not.
    func admit(_ fd: Int32, _ peer: String, among conns: Dictionary<UInt64, Connection>.Values) -> Bool {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) == 0 }
        }
        guard ok, admission.allowList.allows(ss) else {
            logger.warning("client address not allowed, refusing", metadata: ["conn.peer": "\(peer)"])
            return false
        }
        let host = Gatekeeper.host(of: peer)
        let fromHost = conns.reduce(0) { $0 + (Gatekeeper.host(of: $1.peer) == host ? 1 : 0) }
        guard fromHost < config.maxConnectionsPerAddress else {
            logger.warning("too many connections from this address, refusing",
                           metadata: ["conn.peer": "\(peer)", "limit": "\(config.maxConnectionsPerAddress)"])
            return false
        }
        return true
    }

    /// "192.0.2.7:4711" -> "192.0.2.7", "[::1]:4711" -> "[::1]".
    static func host(of peer: String) -> Substring {
        guard let colon = peer.lastIndex(of: ":") else { return Substring(peer) }
        return peer[..<colon]
    }

    /// Closes connections that have not finished the handshake in time, or sat idle.
    func checkTimeouts(_ conns: [Connection]) {
        let now = MonotonicClock.now()
        for c in conns {
            if c.phase != .open && now - c.openedAt >= Double(config.handshakeTimeout) {
                logger.warning("handshake not finished in time, closing",
                               metadata: ["conn.peer": "\(c.peer)", "limit": "\(config.handshakeTimeout)s"])
                engine.closeConnection(c, reason: "handshake timeout")
            } else if config.idleTimeout > 0 && c.inFlight == 0 && now - c.lastActive >= Double(config.idleTimeout) {
                logger.info("idle connection, closing", metadata: ["conn.peer": "\(c.peer)", "limit": "\(config.idleTimeout)s"])
                engine.closeConnection(c, reason: "idle timeout")
            }
        }
    }
}
