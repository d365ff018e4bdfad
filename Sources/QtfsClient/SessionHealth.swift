// What each connection of a session is doing, for the control endpoint (qtinfo). Read
// from another thread while the session works or reconnects, so nothing here waits: only
// atomics, a copy of the slot array, and a zero-timeout poll of each socket.

/// The life of one connection slot (docs/qtinfo.md, "JSON").
public enum ConnectionPhase: String, Sendable, CaseIterable {
    /// A dial is in progress: TCP connect, HELLO, authentication, MOUNT.
    case connecting
    /// Handshake done: carries requests.
    case active
    /// Lost; the reconnect thread redials it (waiting out its backoff between dials).
    case reconnecting
    /// Closed by the server and not noticed yet (redialled when next used), or for good
    /// (the mount is going away).
    case closed

    static func of(alive: Bool, peerClosed: @autoclosure () -> Bool, dialing: Bool, sessionClosed: Bool) -> ConnectionPhase {
        if sessionClosed { return .closed }
        if !alive { return dialing ? .connecting : .reconnecting }
        return peerClosed() ? .closed : .active
    }
}

public struct ConnectionHealth: Sendable {
    /// The slot's current connection (kept alive by this value: its fd stays open).
    public let connection: Connection
    public let phase: ConnectionPhase
    public let requestsInFlight: Int
}

extension Session {
    /// One entry per connection slot, in slot order.
    public var health: [ConnectionHealth] {
        let dialingSlot = dialing.load(ordering: .relaxed), gone = isClosed.load(ordering: .relaxed)
        return conns.enumerated().map { i, c in
            let phase = ConnectionPhase.of(alive: c.isAlive, peerClosed: c.peerHasClosed,
                                           dialing: dialingSlot == i, sessionClosed: gone)
            return ConnectionHealth(connection: c, phase: phase, requestsInFlight: c.requestsInFlight)
        }
    }
}
