// A server handle that survives reconnects. Handles belong to one connection and die
// with it, so each open remembers how to redo itself (path, flags, who opened it); the
// first use after its connection died re-opens it on a live one and goes on there.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

public final class OpenHandle: @unchecked Sendable {
    private let lock = Lock()
    private var conn: Connection   // protected by lock
    private var id: UInt64         // protected by lock
    /// Flags to re-open with: the original ones without O_CREAT, O_EXCL and O_TRUNC.
    let reopenFlags: UInt32
    let isDir: Bool
    let opener: Caller
    /// The file's current path (it may have been renamed since); nil once it is gone.
    public var path: (() -> [UInt8]?)?
    /// Writes are appends: a WRITE lost in flight cannot be repeated safely.
    public let appends: Bool
    /// The file's attributes as the open found them, when the server sent them (OPEN_ATTR).
    public internal(set) var attrAtOpen: Attr?

    init(_ conn: Connection, _ id: UInt64, flags: UInt32, isDir: Bool, opener: Caller) {
        self.conn = conn; self.id = id; self.isDir = isDir; self.opener = opener
        reopenFlags = flags & ~UInt32(O_CREAT | O_EXCL | O_TRUNC)
        appends = flags & UInt32(O_APPEND) != 0
    }

    /// A handle from an OPEN, OPEN_READ or OPENDIR answer, with the attributes it carried.
    convenience init(_ conn: Connection, _ opened: OpenReply, flags: UInt32, isDir: Bool, opener: Caller) {
        self.init(conn, opened.handle, flags: flags, isDir: isDir, opener: opener)
        attrAtOpen = opened.attr
    }

    /// The connection and server handle to use now, re-opening after a reconnect.
    /// Concurrent users of one handle wait here while one of them re-opens it.
    func current(_ s: Session) throws(Abort) -> (Connection, UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if conn.isAlive { return (conn, id) }
        guard let p = path?() else { throw Abort(reply: Reply(status: ESTALE, payload: [])) }
        let c = try s.awaitLive()
        let op: Opcode = isDir ? .opendir : .open
        let r: Reply = isDir
            ? c.call(op) { PathRequest(caller: opener, target: s.target(p)).encode(into: &$0) }
            : c.call(op) { OpenRequest(caller: opener, target: s.target(p), flags: reopenFlags).encode(into: &$0) }
        if r.failure != nil { throw Abort(reply: r.failure == .lost ? .notSent : r) }
        // Gone or replaced on the host while we were away: this handle cannot come back.
        guard let o = try? r.decode(OpenReply.self) else {
            throw Abort(reply: Reply(status: r.status == ENOENT ? ESTALE : r.status, payload: []))
        }
        conn = c; id = o.handle
        return (c, id)
    }

    /// The connection and handle if still open there (for RELEASE), else nil.
    var live: (Connection, UInt64)? { lock.withLock { conn.isAlive ? (conn, id) : nil } }
}
