// What the loop does with one complete request frame: the handshake first, then whatever
// the routing table (Routes.swift) says, through the Router.
import Logging
import QtfsProtocol

extension Engine {
    func handleFrame(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let isHello = h.opcode == Opcode.hello.rawValue
        switch c.phase {
        case .refused, .closing: return   // nothing after a refusal is looked at
        case .awaitingHello where !isHello:
            logger.warning("request before HELLO, closing", metadata: ["conn.peer": "\(c.peer)", "req.op": "\(h.opcode)"])
            return closeConnection(c, reason: "no HELLO")
        case .authenticating where !isHello: return gatekeeper.authenticate(c, h, payload)
        default: break
        }
        logger.trace("request", metadata: ["conn.peer": "\(c.peer)", "req.op": "\(h.opcode)", "req.id": "\(h.id)", "req.len": "\(h.length)"])
        requestTaken(c, h)
        switch router.onLoop(h, payload, conn: c.id, c.handles) {
        case .engine(let run): run(self, c, h, payload)
        case .answered(let frame): io.send(c, OutBuffer(copying: frame))
        case .toWorker: toWorker(c, h, payload)
        case .waitForFifo(let wait): fifos.startWaiting(FifoWaiter(conn: c, id: h.id, wait: wait))
        }
    }

    private func toWorker(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        c.inFlight += 1
        pool.submit(Job(conn: c.id, opcode: h.opcode, id: h.id, payload: Array(payload), handles: c.handles))
    }
}
