// Per-connection socket I/O on the loop: receive and incremental framing, the send
// queue (one sendmsg of up to 64 queued frames at a time, partial sends resumed), close.
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol
import QtfsSystem

extension Engine {
    /// Stop reading from a connection whose answers and I/O buffers pass this (back-pressure).
    static let maxQueuedBytes = 16 << 20

    /// Whether the connection may take another request off the wire.
    func underLimits(_ c: Connection) -> Bool {
        c.inFlight < config.maxInFlight && c.queuedBytes + c.ioBytes < Engine.maxQueuedBytes
    }

    func armRecv(_ c: Connection) {
        guard !c.recvArmed, !c.closing else { return }
        let b = c.recv
        b.reserve(frame: c.awaiting)   // only here: never move the buffer under a pending recv
        let room = b.capacity - b.end
        guard room > 0 else { return }
        if submit(.recv(c), { qtfs_uring_recv(ring, c.fd, b.base + b.end, room, $0) }) {
            c.recvArmed = true
            c.opsInRing += 1
        }
    }

    func received(_ c: Connection, _ res: Int32) {
        c.recvArmed = false
        c.opsInRing -= 1
        if c.closing { return finishClose(c) }
        guard res > 0 else {
            return closeConnection(c, reason: res == 0 ? "peer closed" : "receive failed: \(String(cString: strerror(-res)))")
        }
        c.recv.end += Int(res)
        c.cell.received(Int(res))
        c.lastActive = MonotonicClock.now()
        pump(c)
    }

    /// Parses and handles every complete frame while the connection is under its limits,
    /// then re-arms the receive.
    func pump(_ c: Connection) {
        while !c.closing && underLimits(c) {
            let b = c.recv
            guard b.unparsed >= Wire.headerSize else { c.awaiting = Wire.headerSize; break }
            var header: FrameHeader
            do {
                let limit = gatekeeper.maxRequestLength(c)
                header = try FrameHeader.decode(UnsafeRawBufferPointer(start: b.base + b.start, count: Wire.headerSize), maxLength: limit)
                guard header.kind == .request else { throw FrameHeader.DecodeError.badKind(header.kind.rawValue) }
                guard header.length <= limit else { throw FrameHeader.DecodeError.oversized(header.length) }
                if gatekeeper.receivesSealed(c) && header.length < Sealed.tagSize { throw FrameHeader.DecodeError.oversized(header.length) }
            } catch {
                logger.warning("bad frame header, closing", metadata: ["conn.peer": "\(c.peer)", "error": "\(error)"])
                return closeConnection(c, reason: "bad header")
            }
            let total = Wire.headerSize + Int(header.length)
            guard b.unparsed >= total else { c.awaiting = total; break }
            if gatekeeper.receivesSealed(c) {
                guard let plain = gatekeeper.openFrame(c, b.base + b.start, total) else { return }
                header = plain
            }
            let payload = UnsafeRawBufferPointer(start: b.base + b.start + Wire.headerSize, count: Int(header.length))
            b.start += total
            handleFrame(c, header, payload)
        }
        if c.recv.start == c.recv.end { c.recv.start = 0; c.recv.end = 0 }
        if underLimits(c) { armRecv(c) } else if !c.throttleLogged && !c.closing {
            c.throttleLogged = true   // once per connection: a busy client hits this all the time
            logger.info("request limit reached, not reading until answers drain",
                        metadata: ["conn.peer": "\(c.peer)", "in_flight": "\(c.inFlight)", "limit": "\(config.maxInFlight)"])
        }
    }

    /// Queues a response and starts sending if nothing is on the way.
    func send(_ c: Connection, _ b: OutBuffer) {
        guard !c.closing else { return }
        answerQueued(c, b)
        guard gatekeeper.sealOut(c, b) else { return }
        c.enqueue(b)
        armSend(c)
    }

    func armSend(_ c: Connection) {
        guard !c.sendArmed, !c.closing, c.splicing == nil, c.hasUnsent else { return }
        _ = c.prepareSend()
        if submit(.send(c), { qtfs_uring_sendmsg(ring, c.fd, c.msg, $0) }) {
            c.sendArmed = true
            c.opsInRing += 1
        }
    }

    func sent(_ c: Connection, _ res: Int32) {
        c.sendArmed = false
        c.opsInRing -= 1
        if c.closing { return finishClose(c) }
        guard res >= 0 else {
            return closeConnection(c, reason: "send failed: \(String(cString: strerror(-res)))")
        }
        c.advance(Int(res))
        c.cell.sent(Int(res))
        if !c.hasUnsent && c.phase == .refused { return closeConnection(c, reason: "handshake refused") }
        if let job = c.splicing { return splicer.next(c, job) }
        armSend(c)
        pump(c)
    }

    func closeConnection(_ c: Connection, reason: String) {
        guard !c.closing else { return }
        c.enter(.closing)
        conns.removeValue(forKey: c.id)
        c.cell.state = .closed
        connRegistry.remove(c.id)
        stats.set(conns.count)
        Glibc.shutdown(c.fd, Int32(SHUT_RDWR))   // completes a pending recv/send at once
        cancelStreams(of: c)
        c.handles.closeAll()
        c.dropQueue()
        logger.info("connection closed", metadata: ["conn.peer": "\(c.peer)", "conn.id": "\(c.id)", "reason": "\(reason)"])
        finishClose(c)
    }

    /// Closes the socket once no io_uring op can still use it.
    func finishClose(_ c: Connection) {
        guard c.closing && c.opsInRing == 0 else { return }
        c.closeFd()
        splicer.connectionGone(c)
    }

    /// A spliced READ answer is all out: the queue goes on.
    func spliceDone(_ c: Connection) {
        c.splicing = nil
        armSend(c)
        pump(c)
    }

    /// Takes the connection off the loop: a new fd for its socket and the bytes already
    /// received but not parsed; nil when no fd is left.
    func detach(_ c: Connection) -> (Int32, [UInt8])? {
        let b = c.recv
        let leftover = b.unparsed > 0 ? Array(UnsafeRawBufferPointer(start: b.base + b.start, count: b.unparsed)) : []
        b.start = b.end
        let net = dup(c.fd)
        c.enter(.closing)
        conns.removeValue(forKey: c.id)
        stats.set(conns.count)
        cancelStreams(of: c)
        c.handles.closeAll()
        c.dropQueue()
        finishClose(c)
        return net >= 0 ? (net, leftover) : nil
    }

    func peerName(_ fd: Int32) -> String {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) == 0 }
        }
        return ok ? SocketAddress.describe(ss) : "unknown"
    }
}
