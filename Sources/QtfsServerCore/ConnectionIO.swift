// The connection I/O part of the engine: per connection, the receive and incremental
// framing, the send queue (flushed at the end of each turn of the loop: one sendmsg of up
// to 64 queued frames at a time, tried directly first, partial sends resumed through the
// ring) and the back-pressure that stops reading. It owns each connection's `WireState`
// (buffers, queue, what is armed); the engine hands it each recv/send completion and it
// hands each complete request frame to the engine's routing.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol
import QtfsSystem

final class ConnectionIO {
    /// Stop reading from a connection whose answers and I/O buffers pass this (back-pressure).
    static let maxQueuedBytes = 16 << 20
    /// WRITE data at least this big is written from the receive buffer itself (the
    /// connection gets a fresh one) instead of being copied.
    static let stealThreshold = 64 * 1024

    unowned(unsafe) let engine: Engine   // the engine owns this part (Engine.swift, "parts")
    let logger: Logger
    private var config: ServerConfig { engine.config }
    private var gatekeeper: Gatekeeper { engine.gatekeeper }

    /// Connections whose queued answers go out at the end of this turn of the loop.
    private var toFlush: [Connection] = []

    init(engine: Engine, logger: Logger) { self.engine = engine; self.logger = logger }

    /// Whether the connection may take another request off the wire.
    func underLimits(_ c: Connection) -> Bool {
        c.inFlight < config.maxInFlight && c.wire.queuedBytes + c.ioBytes < ConnectionIO.maxQueuedBytes
    }

    func armRecv(_ c: Connection) {
        let w = c.wire
        guard !w.recvArmed, !c.closing else { return }
        let b = w.recv
        b.reserve(frame: w.awaiting)   // only here: never move the buffer under a pending recv
        let room = b.capacity - b.end
        guard room > 0 else { return }
        submit(c, .recv(c), armed: \.recvArmed) { qtfs_uring_recv(engine.ring, c.fd, b.base + b.end, room, $0) }
    }

    /// Submits the connection's receive or send; on success marks it armed (`armed`) and
    /// counts the ring op that now refers to the connection.
    private func submit(_ c: Connection, _ op: Engine.Op, armed: ReferenceWritableKeyPath<WireState, Bool>,
                        _ prep: (UInt64) -> Int32) {
        guard engine.submit(op, prep) else { return }
        c.wire[keyPath: armed] = true
        c.opsInRing += 1
    }

    func received(_ c: Connection, _ res: Int32) {
        c.wire.recvArmed = false
        c.opsInRing -= 1
        if c.closing { return engine.finishClose(c) }
        guard res > 0 else {
            return engine.closeConnection(c, reason: res == 0 ? "peer closed" : "receive failed: \(String(cString: strerror(-res)))")
        }
        c.wire.recv.end += Int(res)
        c.cell.received(Int(res))
        c.lastActive = MonotonicClock.now()
        pump(c)
    }

    /// Parses and handles every complete frame while the connection is under its limits,
    /// then re-arms the receive.
    func pump(_ c: Connection) {
        while !c.closing && underLimits(c) {
            guard let (header, payload) = nextFrame(c) else { break }
            engine.handleFrame(c, header, payload)
        }
        let w = c.wire
        if w.recv.start == w.recv.end { w.recv.start = 0; w.recv.end = 0 }
        if underLimits(c) { armRecv(c) } else if !w.throttleLogged && !c.closing {
            w.throttleLogged = true   // once per connection: a busy client hits this all the time
            logger.info("request limit reached, not reading until answers drain",
                        metadata: ["conn.peer": "\(c.peer)", "in_flight": "\(c.inFlight)", "limit": "\(config.maxInFlight)"])
        }
    }

    /// The next complete request frame in the receive buffer (opened when sealed), taken
    /// out of it; nil when it is not all there yet, or the connection was closed for it.
    private func nextFrame(_ c: Connection) -> (FrameHeader, UnsafeRawBufferPointer)? {
        let b = c.wire.recv
        guard b.unparsed >= Wire.headerSize else { c.wire.awaiting = Wire.headerSize; return nil }
        guard var header = checkedHeader(c) else { return nil }
        let total = Wire.headerSize + Int(header.length)
        guard b.unparsed >= total else { c.wire.awaiting = total; return nil }
        if gatekeeper.receivesSealed(c) {
            guard let plain = gatekeeper.openFrame(c, b.base + b.start, total) else { return nil }
            header = plain
        }
        let payload = UnsafeRawBufferPointer(start: b.base + b.start + Wire.headerSize, count: Int(header.length))
        b.start += total
        return (header, payload)
    }

    /// The header at the start of the unparsed bytes, checked before anything is allocated
    /// for its frame; nil after closing the connection for a bad one.
    private func checkedHeader(_ c: Connection) -> FrameHeader? {
        let b = c.wire.recv
        do {
            let limit = gatekeeper.maxRequestLength(c)
            let header = try FrameHeader.decode(UnsafeRawBufferPointer(start: b.base + b.start, count: Wire.headerSize), maxLength: limit)
            guard header.kind == .request else { throw FrameHeader.DecodeError.badKind(header.kind.rawValue) }
            guard header.length <= limit else { throw FrameHeader.DecodeError.oversized(header.length) }
            if gatekeeper.receivesSealed(c) && header.length < Sealed.tagSize { throw FrameHeader.DecodeError.oversized(header.length) }
            return header
        } catch {
            logger.warning("bad frame header, closing", metadata: ["conn.peer": "\(c.peer)", "error": "\(error)"])
            engine.closeConnection(c, reason: "bad header")
            return nil
        }
    }

    /// Queues a response and starts sending if nothing is on the way.
    func send(_ c: Connection, _ b: OutBuffer) {
        guard !c.closing else { return }
        engine.answerQueued(c, b)
        guard gatekeeper.sealOut(c, b) else { return }
        c.wire.enqueue(b)
        armSend(c)
    }

    /// Marks the connection's queue for the flush that ends this turn of the loop, so the
    /// answers of one turn leave in one sendmsg.
    private func armSend(_ c: Connection) {
        let w = c.wire
        guard !w.flushPending, canSend(c) else { return }
        w.flushPending = true
        toFlush.append(c)
    }

    private func canSend(_ c: Connection) -> Bool {
        let w = c.wire
        return !w.sendArmed && !c.closing && !w.splicing && w.hasUnsent
    }

    /// Sends what this turn of the loop queued, before the loop waits again. Each queue is
    /// tried with a plain non-blocking sendmsg first: an answer to an idle socket leaves
    /// here, instead of in the next io_uring_enter, which would then return at once with
    /// the send's completion and cost a second trip through the loop per request. What the
    /// socket does not take now goes through the ring as before.
    func flushSends() {
        while !toFlush.isEmpty {
            let batch = toFlush
            toFlush.removeAll(keepingCapacity: true)
            // Answers someone waits for first: a RELEASE's answer sent ahead of them (it came
            // in the same turn on another connection) would hold them back by a sendmsg.
            for c in batch where c.wire.awaitedUnsent > 0 { flush(c) }
            for c in batch where c.wire.flushPending { flush(c) }
        }
    }

    private func flush(_ c: Connection) {
        let w = c.wire
        w.flushPending = false
        guard canSend(c) else { return }
        // Answers nobody waits for go with the next awaited one while the connection has a
        // request still to answer (a worker's, an io_uring read's...): sent alone they would
        // wake the client's reader for nothing first. The tick sends them at the latest.
        w.lazyWaiting = w.awaitedUnsent == 0 && c.inFlight > 0 && !w.lazyOverdue
        if w.lazyWaiting { return }
        w.lazyOverdue = false
        _ = w.prepareSend()
        let n = sendmsg(c.fd, w.msg, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        let err = n < 0 ? errno : 0
        if err != 0 && err != EAGAIN && err != EWOULDBLOCK && err != EINTR {
            return engine.closeConnection(c, reason: "send failed: \(String(cString: strerror(err)))")
        }
        if n > 0 {
            guard advanced(c, n) else { return }
            if !w.recvArmed { pump(c) }   // the queue shrank: reading may resume
        }
        guard canSend(c) else { return }
        _ = w.prepareSend()
        submit(c, .send(c), armed: \.sendArmed) { qtfs_uring_sendmsg(engine.ring, c.fd, w.msg, $0) }
    }

    /// The loop's tick: lazy answers still waiting go now (a request may wait long: a fifo).
    func flushLazy(_ conns: Dictionary<UInt64, Connection>.Values) {
        for c in conns where c.wire.lazyWaiting {
            c.wire.lazyOverdue = true
            armSend(c)
        }
    }

    func sent(_ c: Connection, _ res: Int32) {
        c.wire.sendArmed = false
        c.opsInRing -= 1
        if c.closing { return engine.finishClose(c) }
        guard res >= 0 else {
            return engine.closeConnection(c, reason: "send failed: \(String(cString: strerror(-res)))")
        }
        guard advanced(c, Int(res)) else { return }
        armSend(c)
        pump(c)
    }

    /// After `n` bytes of the queue went out: false when sending stops here (the
    /// connection was refused and is closed, or a spliced READ answer's data goes next).
    private func advanced(_ c: Connection, _ n: Int) -> Bool {
        let job = c.wire.advance(n)
        c.cell.sent(n)
        if !c.wire.hasUnsent && c.phase == .refused {
            engine.closeConnection(c, reason: "handshake refused")
            return false
        }
        if let job { engine.splicer.next(c, job); return false }
        return true
    }

    /// A spliced READ answer is all out: the queue goes on.
    func spliceDone(_ c: Connection) {
        c.wire.splicing = false
        armSend(c)
        pump(c)
    }

    /// Memory holding `data` (a WRITE's, in the receive buffer) that stays put until the
    /// write completes: big writes take over the receive buffer (the unparsed tail moves to
    /// a fresh one), small ones copy.
    func stableCopy(_ c: Connection, _ data: UnsafeRawBufferPointer) -> (AnyObject, UnsafeRawPointer?) {
        // A pending recv writes into the current buffer: then it cannot be taken over.
        guard data.count >= ConnectionIO.stealThreshold, !c.wire.recvArmed else {
            let copy = OutBuffer(copying: Array(data))
            return (copy, UnsafeRawPointer(copy.base))
        }
        let old = c.wire.recv, fresh = RecvBuffer(pooledFrom: BufferPool.shared)
        fresh.reserve(frame: old.unparsed)
        if old.unparsed > 0 { fresh.base.copyMemory(from: old.base + old.start, byteCount: old.unparsed) }
        fresh.end = old.unparsed
        c.wire.recv = fresh
        return (old, data.baseAddress)
    }
}
