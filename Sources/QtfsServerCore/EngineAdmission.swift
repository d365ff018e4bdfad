// Connection-level limits on the loop: the client address allow-list, connections per
// address, and the handshake and idle timeouts (checked once a second).
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsSystem

extension Engine {
    /// Whether a freshly accepted peer may stay; logs why not.
    func admit(_ fd: Int32, _ peer: String) -> Bool {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) == 0 }
        }
        guard ok, admission.allowList.allows(ss) else {
            logger.warning("client address not allowed, refusing", metadata: ["conn.peer": "\(peer)"])
            return false
        }
        let host = Engine.host(of: peer)
        let fromHost = conns.values.reduce(0) { $0 + (Engine.host(of: $1.peer) == host ? 1 : 0) }
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

    func armTick() {
        _ = submit(.tick) { qtfs_uring_timeout(ring, 1000, $0) }
    }

    /// Closes connections that have not finished the handshake in time, or sat idle.
    func checkTimeouts() {
        let now = MonotonicClock.now()
        for c in Array(conns.values) {
            if c.phase != .open && now - c.openedAt >= Double(config.handshakeTimeout) {
                logger.warning("handshake not finished in time, closing",
                               metadata: ["conn.peer": "\(c.peer)", "limit": "\(config.handshakeTimeout)s"])
                closeConnection(c, reason: "handshake timeout")
            } else if config.idleTimeout > 0 && c.inFlight == 0 && now - c.lastActive >= Double(config.idleTimeout) {
                logger.info("idle connection, closing", metadata: ["conn.peer": "\(c.peer)", "limit": "\(config.idleTimeout)s"])
                closeConnection(c, reason: "idle timeout")
            }
        }
    }
}
