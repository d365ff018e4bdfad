// Sending one request of a session: it goes out on a live connection (path requests
// round-robin), waits for its answer, and is sent again when that is safe. Callers wait for
// a live connection (forever on hard mounts, until `timeo` on soft ones, always
// interruptible) and resend what is safe to resend (docs/client.md, "Faults"). The
// thread that brings dead connections back is in Reconnect.swift.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol
import QtfsSystem

/// Whether a request may be sent again after its connection died with it in flight.
public enum Replay: Sendable {
    case safe     // repeating it gives the same result (reads, lookups, writes at an offset)
    case unsafe   // the first attempt may have taken effect (create O_EXCL, rename, unlink…)
}

/// An operation ends without an answer from the server; `reply` says why.
struct Abort: Error { let reply: Reply }

/// errno for an unsafe request whose connection died after it was sent: the caller must
/// check whether it happened (an ECONNRESET "connection reset by peer" says exactly that).
public let errnoOutcomeUnknown: Int32 = ECONNRESET

extension Session {
    /// Where a path request points: the export, and the path relative to its root.
    public func target(_ path: [UInt8]) -> Target {
        Target(export: exportId.load(ordering: .relaxed), path: path)
    }

    /// One request about a path, on the connection the round-robin picks.
    func onPath<P: WirePayload>(_ op: Opcode, _ req: P, _ replay: Replay = .safe) -> Reply {
        run(replay) { () throws(Abort) -> Reply in try ready(pathConn(), for: replay).call(op, req) }
    }

    /// Sends a request until it has an answer. A request that never left is sent again once
    /// a connection is back; one lost in flight is sent again only if `replay` is `.safe`.
    /// The soft-mount deadline covers the whole operation, reconnects included.
    func run(_ replay: Replay, _ attempt: () throws(Abort) -> Reply) -> Reply {
        let w = Waiter.current()
        let outer = w.deadline
        if outer == nil, let t = policy.timeout { w.deadline = Clock.now() + t }
        defer { w.deadline = outer }
        // No request may overtake a write answered early (it could see the old data or size).
        do { try writeBehind.settle(self) } catch {
            return Reply(status: (error as? Errno)?.code ?? EIO, payload: [])
        }
        while true {
            let r: Reply
            do { r = try attempt() } catch {
                if error.reply.failure == .notSent { continue }
                return error.reply
            }
            switch r.failure {
            case nil, .timedOut?, .interrupted?: return r
            case .notSent?: continue
            case .lost?:
                if replay == .unsafe { return Reply(status: errnoOutcomeUnknown, payload: []) }
            }
        }
    }

    /// A live connection for a path operation, round-robin; waits for a reconnect when
    /// none is alive (see `awaitLive`).
    func pathConn() throws(Abort) -> Connection {
        let all = conns
        let start = next.add(1, ordering: .relaxed).oldValue
        for i in 0..<all.count where all[(start &+ i) % all.count].isAlive { return all[(start &+ i) % all.count] }
        return try awaitLive()
    }

    /// `c`, unless the request cannot be repeated and the server has closed `c` meanwhile:
    /// then it is sent elsewhere (as a request that never left).
    func ready(_ c: Connection, for replay: Replay) throws(Abort) -> Connection {
        if replay == .unsafe && !c.peerStillOpen() { throw Abort(reply: .notSent) }
        return c
    }

    /// Waits until some connection is alive again (EIO once the session is closed: then
    /// none will be).
    func awaitLive() throws(Abort) -> Connection {
        let w = Waiter.current()
        reconnector.wake()
        while true {
            if let c = conns.first(where: { $0.isAlive }) { return c }
            if isClosed.load(ordering: .relaxed) { throw Abort(reply: .eio) }
            if let stop = w.reasonToStop() { throw Abort(reply: stop) }
            Clock.sleep(0.05, unless: w)
        }
    }
}
