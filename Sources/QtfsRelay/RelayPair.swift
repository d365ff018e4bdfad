// One relayed connection: the local unix socket and its qtfs TCP connection, served by
// the relay thread (RelayLoop.swift).
#if canImport(Glibc)
import Glibc
#endif

/// A message for the local socket: its bytes and the descriptors to pass with them.
struct Outgoing {
    var data: [UInt8]
    var fds: [Int32] = []
}

/// One direction: bytes read from the source, waiting to be written to the destination.
final class Flow {
    var out: [UInt8] = []          // raw bytes (stream to local, anything to the network)
    var input: [UInt8] = []        // from the network, framed, not yet parsed
    var messages: [Outgoing] = []  // to the local socket, when framed
    var eof = false                // the source ended
    var shut = false               // the destination was told (SHUT_WR)
    var endSealed = false          // sealed relay: the end frame is queued to the network

    var pending: Bool { !out.isEmpty || !messages.isEmpty }
}

/// What the local end of a pair is.
enum LocalEnd {
    case socket
    case pipeSource     // a pipe's read end: its data goes to the network, nothing comes back
    case pipeSink       // a pipe's write end: what the network sends is written to it
}

final class Pair {
    /// Room before the data in the read buffer for a seqpacket length.
    static let headroom = 4
    let local: Int32, net: Int32, seqpacket: Bool
    let files: FdTranslator?
    let end: LocalEnd
    /// A relay on a sealed connection: STREAM frames on the network (RelaySeal.swift).
    let seal: RelaySeal?
    let fromLocal = Flow(), fromNet = Flow()
    var failed = false
    /// Failed on a sealed relay: the TCP connection is reset too.
    private var resetting = false
    /// What arrived on `net` before the relay took it (taken by the relay thread).
    var early: [UInt8] = []

    init(local: Int32, net: Int32, seqpacket: Bool, files: FdTranslator?, end: LocalEnd = .socket, seal: RelaySeal? = nil) {
        self.local = local; self.net = net; self.seqpacket = seqpacket; self.files = files; self.end = end; self.seal = seal
        if end == .pipeSink { fromLocal.eof = true }   // a write end gives nothing to read
    }

    var finished: Bool { failed || (fromLocal.shut && fromNet.shut) }
    /// Whether the network side is framed (records or seqpacket frames) rather than raw bytes.
    private var framed: Bool { seqpacket || files != nil }

    /// Read while the other side has nothing queued (back-pressure); write while queued.
    func pollFds() -> [pollfd] {
        var l: Int16 = 0, n: Int16 = 0
        if !fromLocal.eof && !fromLocal.pending { l |= Int16(POLLIN) }
        if fromNet.pending { l |= Int16(POLLOUT) }
        if !fromNet.eof && !fromNet.pending { n |= Int16(POLLIN) }
        if fromLocal.pending { n |= Int16(POLLOUT) }
        return [pollfd(fd: local, events: l, revents: 0), pollfd(fd: net, events: n, revents: 0)]
    }

    func service(local lr: Int16, net nr: Int16, _ buf: inout [UInt8]) {
        if lr & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !fromLocal.eof && !fromLocal.pending { readLocal(&buf) }
        if nr & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !fromNet.eof && !fromNet.pending { readNet(&buf) }
        flushToNet()
        flushToLocal()
    }

    private func readLocal(_ buf: inout [UInt8]) {
        if end == .pipeSource { return readPipe(&buf) }
        var fds: [Int32] = [], truncated = false
        let h = Pair.headroom
        let n = buf.withUnsafeMutableBytes {
            Rights.receive(local, $0.baseAddress! + h, framed ? RelayLoop.maxMessage : RelayLoop.chunk, fds: &fds, truncated: &truncated)
        }
        if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
        let passed = describe(fds, truncated: truncated)
        if n == 0 && fds.isEmpty && (!seqpacket || isEOF(local)) { fromLocal.eof = true; return }
        if files != nil {
            queueToNet { out in buf.withUnsafeBytes { FileRecord.encode(UnsafeRawBufferPointer(rebasing: $0[h..<(h + n)]), passed, into: &out) } }
        } else if seqpacket {
            let len = UInt32(n)
            buf[0] = UInt8(len & 0xff); buf[1] = UInt8(len >> 8 & 0xff); buf[2] = UInt8(len >> 16 & 0xff); buf[3] = UInt8(len >> 24)
            queueToNet { $0 += buf[0..<(h + n)] }
        } else {
            queueToNet { $0 += buf[h..<(h + n)] }
        }
    }

    /// Queues the relayed bytes `body` appends for the network: as they are, or sealed in
    /// STREAM frames (a copy).
    private func queueToNet(_ body: (inout [UInt8]) -> Void) {
        guard let seal else { return body(&fromLocal.out) }
        var plain: [UInt8] = []
        body(&plain)
        do { try plain.withUnsafeBytes { try seal.seal($0, into: &fromLocal.out) } } catch { reset(error) }
    }

    /// A sealed relay that cannot go on (tampering, truncation): logged, and both ends
    /// closed at once, without the end of data the other side of each would otherwise get.
    private func reset(_ why: Error) {
        seal?.logReset(why)
        failed = true
        resetting = true
    }

    private func readPipe(_ buf: inout [UInt8]) {
        let n = buf.withUnsafeMutableBytes { read(local, $0.baseAddress!, RelayLoop.chunk) }
        if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
        if n == 0 { fromLocal.eof = true; return }
        queueToNet { $0 += buf[0..<n] }
    }

    /// The files the local process passed, as the other side will reopen them; every
    /// received descriptor is closed here, and each one not passed on is logged.
    private func describe(_ fds: [Int32], truncated: Bool) -> [PassedFile] {
        defer { fds.forEach { close($0) } }
        if truncated {
            log(FdRefusal("some of a message's file descriptors", "more than \(FileRecord.maxFiles) in one message"), received: false)
        }
        guard let files else {
            fds.forEach { log(FdRefusal.unpassable($0), received: false) }
            return []
        }
        return fds.compactMap { fd in
            switch files.describe(fd) {
            case .success(let f): return f
            case .failure(let r): files.logDropped(r, received: false); return nil
            }
        }
    }

    private func log(_ r: FdRefusal, received: Bool) {
        if let files { return files.logDropped(r, received: received) }
        fputs(r.line(received: received) + "\n", stderr)
    }

    private func readNet(_ buf: inout [UInt8]) {
        let n = buf.withUnsafeMutableBytes { recv(net, $0.baseAddress!, RelayLoop.chunk, 0) }
        if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
        if n == 0 {
            if let seal { do { try seal.checkEnd() } catch { return reset(error) } }
            fromNet.eof = true; if !fromNet.input.isEmpty { failed = true }; return
        }
        buf.withUnsafeBytes { receiveFromNet(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Takes bytes from the network (`toLocal` at the start, then each read): opened
    /// first on a sealed relay, where the end frame is the end of the direction.
    func receiveFromNet(_ bytes: UnsafeRawBufferPointer) {
        if let seal {
            do { try seal.open(bytes, into: &fromNet.input) } catch { return reset(error) }
        } else {
            fromNet.input.append(contentsOf: bytes)
        }
        if !parseFromNet() { failed = true; return }
        if seal?.endReceived == true { fromNet.eof = true; if !fromNet.input.isEmpty { failed = true } }
    }

    /// Moves what arrived from the network to the local queue. False on a bad frame.
    func parseFromNet() -> Bool {
        let f = fromNet
        guard framed else { f.out += f.input; f.input = []; return true }
        var at = 0
        defer { f.input.removeFirst(at) }
        while true {
            if let files {
                switch FileRecord.decode(f.input, at: at, maxData: RelayLoop.maxMessage) {
                case .incomplete: return true
                case .bad: return false
                case .record(let data, let passed, let size):
                    f.messages.append(Outgoing(data: data, fds: reopen(passed, files)))
                    at += size
                }
            } else {
                guard f.input.count - at >= 4 else { return true }
                let n = FileRecord.frameLength(f.input, at)
                if n > RelayLoop.maxMessage { return false }
                guard f.input.count - at - 4 >= n else { return true }
                f.messages.append(Outgoing(data: Array(f.input[(at + 4)..<(at + 4 + n)])))
                at += 4 + n
            }
        }
    }

    private func reopen(_ passed: [PassedFile], _ files: FdTranslator) -> [Int32] {
        passed.compactMap {
            switch files.reopen($0) {
            case .success(let fd): return fd
            case .failure(let r): files.logDropped(r, received: true); return nil
            }
        }
    }

    private func flushToNet() {
        let f = fromLocal
        if f.eof && !f.endSealed, let seal {
            f.endSealed = true
            do { try seal.sealEnd(into: &f.out) } catch { return reset(error) }
        }
        if !sendRaw(f, to: net) { return }
        if f.eof && !f.shut { f.shut = true; shutdown(net, Int32(SHUT_WR)) }
    }

    private func flushToLocal() {
        let f = fromNet
        if end == .pipeSource && !f.out.isEmpty { failed = true; return }   // data for a read end
        if !sendRaw(f, to: local) { return }
        while !f.messages.isEmpty {
            let m = f.messages[0]
            let n = m.data.withUnsafeBytes { Rights.send(local, $0, m.fds) }
            if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
            m.fds.forEach { close($0) }   // the local process has its own copies now
            // A stream takes part of a message: the rest follows without the descriptors.
            if !seqpacket && n < m.data.count {
                f.messages[0] = Outgoing(data: Array(m.data[n...]))
            } else {
                f.messages.removeFirst()
            }
        }
        // A pipe has no half-close: its write end is closed with the pair.
        if f.eof && !f.shut { f.shut = true; if end == .socket { shutdown(local, Int32(SHUT_WR)) } }
    }

    /// Writes `f.out` to `fd`; false while some is left (or on an error).
    private func sendRaw(_ f: Flow, to fd: Int32) -> Bool {
        while !f.out.isEmpty {
            let n = f.out.withUnsafeBytes {
                fd == local && end != .socket ? write(fd, $0.baseAddress!, $0.count) : send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL))
            }
            if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return false }
            f.out.removeFirst(n)
        }
        return true
    }

    /// A zero-length SOCK_SEQPACKET read is either an empty message or the end: the peer
    /// closing also shows as POLLRDHUP/POLLHUP.
    private func isEOF(_ fd: Int32) -> Bool {
        let rdhup: Int16 = 0x2000   // POLLRDHUP (GNU)
        var p = pollfd(fd: fd, events: rdhup, revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents & (rdhup | Int16(POLLHUP)) != 0
    }

    /// Closes both sockets and any descriptor still waiting to be passed. A reset relay
    /// resets its TCP connection (RST), so the other side's relay resets as well. A unix
    /// socket has no reset: its program sees ECONNRESET only when bytes it sent were still
    /// unread here, else the end of file, and EPIPE on its next write.
    func closeBoth() {
        if resetting {
            var hard = linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(net, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
        }
        fromNet.messages.forEach { $0.fds.forEach { close($0) } }
        close(local); close(net)
    }
}
