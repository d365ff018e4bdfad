// What the event loop tells the control endpoint: each request's opcode, errno and
// latency (from the frame taken off the wire to its answer queued for sending), and each
// connection's traffic and handshake state. A dictionary insert and remove per request,
// two clock reads and a few relaxed atomic adds: nothing measurable against a network
// round trip.
import Glibc
import QtfsControl
import QtfsProtocol
import QtfsSystem

extension Engine {
    /// Statistics names indexed by wire opcode.
    static let opNames: [String?] = {
        var names = [String?](repeating: nil, count: Int(Opcode.allCases.map(\.rawValue).max()!) + 1)
        for op in Opcode.allCases { names[Int(op.rawValue)] = "\(op)" }
        return names
    }()

    /// A connection is `connecting` from accept until HELLO and (when the server asks for
    /// it) authentication are done, then `active`.
    func handshakeProgressed(_ c: Connection) {
        if c.phase == .open { c.cell.state = .active }
    }

    func requestTaken(_ c: Connection, _ h: FrameHeader) {
        if c.started.updateValue(MonotonicClock.nanoseconds(), forKey: h.id) == nil { c.cell.requestStarted() }
    }

    /// Called with every frame queued to a connection; `b` starts with a response header.
    func answerQueued(_ c: Connection, _ b: OutBuffer) {
        let id = b.base.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        let opcode = b.base.loadUnaligned(fromByteOffset: 6, as: UInt16.self).littleEndian
        let status = b.base.loadUnaligned(fromByteOffset: 20, as: UInt32.self).littleEndian
        requestEnded(c, id: id, opcode: opcode, status: Int32(bitPattern: status))
    }

    /// A request done without an answer (a quiet RELEASE): counted as if answered with
    /// `status`, and a failure logged, since the client will not hear of it (an unknown
    /// handle only at debug level: a client may release one the server already closed).
    func answeredQuietly(_ c: Connection, _ h: FrameHeader, _ status: Int32) {
        if status != 0 {
            logger.log(level: status == EBADF ? .debug : .warning, "unanswered request failed",
                       metadata: ["conn.peer": "\(c.peer)", "req.op": "\(h.opcode)", "errno": "\(status)"])
        }
        requestEnded(c, id: h.id, opcode: h.opcode, status: status)
    }

    private func requestEnded(_ c: Connection, id: UInt64, opcode: UInt16, status: Int32) {
        guard let t0 = c.started.removeValue(forKey: id) else { return }
        c.cell.requestEnded()
        opStats.record(Int(opcode), errno: status, nanos: MonotonicClock.nanoseconds() &- t0)
    }
}
