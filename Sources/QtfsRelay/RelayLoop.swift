// Relays bridged unix-socket connections over their qtfs TCP connections, both on the
// server and on the client (docs/protocol.md, "Unix socket bridge"). One thread with
// poll(2) serves every pair, so connections cost buffers, not threads.
//
// After the SOCK_CONNECT / SOCK_ACCEPT exchange the TCP connection carries the socket's
// bytes as they are (SOCK_STREAM), or one frame per message, `u32 length` + bytes
// (SOCK_SEQPACKET). End of data on one side is shut down (SHUT_WR) on the other; an
// error on either closes both.
#if canImport(Glibc)
import Glibc
#endif

public final class RelayLoop: @unchecked Sendable {
    /// Largest SOCK_SEQPACKET message relayed (a bigger one closes the pair).
    public static let maxMessage = 256 * 1024
    static let chunk = 64 * 1024

    private let lock = NSLockLike()
    private var incoming: [Pair] = []          // protected by lock
    private var pairs: [Pair] = []             // relay thread only
    private let wake: (r: Int32, w: Int32)
    public let name: String

    public init(name: String) {
        self.name = name
        var p: [Int32] = [-1, -1]
        _ = pipe(&p)
        for fd in p { setNonBlocking(fd); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wake = (p[0], p[1])
        let box = Unmanaged.passRetained(self).toOpaque()
        var t = pthread_t()
        _ = pthread_create(&t, nil, { p in
            Unmanaged<RelayLoop>.fromOpaque(p!).takeRetainedValue().run()
            return nil
        }, box)
        pthread_detach(t)
    }

    /// Live pairs (for tests and diagnostics).
    public var count: Int { lock.withLock { liveCount } }
    private var liveCount = 0   // protected by lock

    /// Takes ownership of both fds. `toLocal`: bytes that already arrived on `net` for the
    /// local socket; `toNet`: bytes to send on `net` first (an answer frame).
    public func add(local: Int32, net: Int32, seqpacket: Bool, toLocal: [UInt8] = [], toNet: [UInt8] = []) {
        setNonBlocking(local); setNonBlocking(net)
        let p = Pair(local: local, net: net, seqpacket: seqpacket)
        p.fromNet.input = toLocal
        p.fromLocal.out = toNet
        lock.withLock { incoming.append(p); liveCount += 1 }
        var b: UInt8 = 1
        _ = write(wake.w, &b, 1)
    }

    private func run() {
        var buf = [UInt8](repeating: 0, count: RelayLoop.maxMessage + 4)
        while true {
            let fresh = lock.withLock { () -> [Pair] in defer { incoming = [] }; return incoming }
            pairs += fresh
            for p in fresh { p.fromNet.parse(p.seqpacket) }
            var fds = [pollfd(fd: wake.r, events: Int16(POLLIN), revents: 0)]
            for p in pairs { fds += p.pollFds() }
            if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR { return }
            if fds[0].revents != 0 { var b = [UInt8](repeating: 0, count: 64); while read(wake.r, &b, 64) > 0 {} }
            for (i, p) in pairs.enumerated() {
                p.service(local: fds[1 + 2 * i].revents, net: fds[2 + 2 * i].revents, &buf)
            }
            let done = pairs.filter { $0.finished }
            if !done.isEmpty {
                done.forEach { $0.closeBoth() }
                pairs.removeAll { $0.finished }
                lock.withLock { liveCount -= done.count }
            }
        }
    }
}

/// One direction: bytes read from `src`, waiting to be written to `dst`.
final class Flow {
    var out: [UInt8] = []      // ready to write to the destination
    var input: [UInt8] = []    // seqpacket from the network: framed bytes not yet parsed
    var messages: [[UInt8]] = []   // seqpacket to the local socket: whole messages
    var eof = false            // the source ended
    var shut = false           // the destination was told (SHUT_WR)

    var pending: Bool { !out.isEmpty || !messages.isEmpty }

    /// Network -> local, seqpacket: splits whole frames off `input`. False on a bad frame.
    @discardableResult
    func parse(_ seqpacket: Bool) -> Bool {
        guard seqpacket else { out += input; input = []; return true }
        var at = 0
        while input.count - at >= 4 {
            let n = Int(UInt32(input[at]) | UInt32(input[at + 1]) << 8 | UInt32(input[at + 2]) << 16 | UInt32(input[at + 3]) << 24)
            if n > RelayLoop.maxMessage { return false }
            guard input.count - at - 4 >= n else { break }
            messages.append(Array(input[(at + 4)..<(at + 4 + n)]))
            at += 4 + n
        }
        input.removeFirst(at)
        return true
    }
}

final class Pair {
    let local: Int32, net: Int32, seqpacket: Bool
    let fromLocal = Flow(), fromNet = Flow()
    var failed = false

    init(local: Int32, net: Int32, seqpacket: Bool) { self.local = local; self.net = net; self.seqpacket = seqpacket }

    var finished: Bool { failed || (fromLocal.shut && fromNet.shut) }

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
        let n = buf.withUnsafeMutableBytes { recvLocal($0.baseAddress! + 4, seqpacket ? RelayLoop.maxMessage : RelayLoop.chunk) }
        if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
        if passedFds { failed = true; return }
        if n == 0 && !seqpacket { fromLocal.eof = true; return }
        if n == 0 && seqpacket && isEOF(local) { fromLocal.eof = true; return }
        if seqpacket {
            let len = UInt32(n)
            buf[0] = UInt8(len & 0xff); buf[1] = UInt8(len >> 8 & 0xff); buf[2] = UInt8(len >> 16 & 0xff); buf[3] = UInt8(len >> 24)
            fromLocal.out += buf[0..<(4 + n)]
        } else {
            fromLocal.out += buf[4..<(4 + n)]
        }
    }

    private func readNet(_ buf: inout [UInt8]) {
        let n = buf.withUnsafeMutableBytes { recv(net, $0.baseAddress!, RelayLoop.chunk, 0) }
        if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
        if n == 0 { fromNet.eof = true; if !fromNet.input.isEmpty { failed = true }; return }
        fromNet.input += buf[0..<n]
        if !fromNet.parse(seqpacket) { failed = true }
    }

    private func flushToNet() {
        let f = fromLocal
        while !f.out.isEmpty {
            let n = f.out.withUnsafeBytes { send(net, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
            f.out.removeFirst(n)
        }
        if f.eof && !f.shut { f.shut = true; shutdown(net, Int32(SHUT_WR)) }
    }

    private func flushToLocal() {
        let f = fromNet
        if seqpacket {
            while let m = f.messages.first {
                let n = m.withUnsafeBytes { send(local, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
                f.messages.removeFirst()
            }
        } else {
            while !f.out.isEmpty {
                let n = f.out.withUnsafeBytes { send(local, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 { if errno != EAGAIN && errno != EINTR { failed = true }; return }
                f.out.removeFirst(n)
            }
        }
        if f.eof && !f.shut { f.shut = true; shutdown(local, Int32(SHUT_WR)) }
    }

    /// File descriptors cannot cross machines: a message that carries any (SCM_RIGHTS) is
    /// not relayed; its fds are closed and the pair is closed, with a line on stderr, so an
    /// application never silently gets the data without its descriptors.
    private var passedFds = false

    private func recvLocal(_ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
        var ctl = [UInt8](repeating: 0, count: 512)
        return ctl.withUnsafeMutableBytes { c in
            var iov = iovec(iov_base: p, iov_len: n)
            return withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr()
                msg.msg_iov = iovp
                msg.msg_iovlen = 1
                msg.msg_control = c.baseAddress
                msg.msg_controllen = c.count
                let r = recvmsg(local, &msg, 0x4000_0000)   // MSG_CMSG_CLOEXEC
                if r >= 0 && msg.msg_controllen > 0 {
                    Pair.closeRights(UnsafeRawBufferPointer(start: c.baseAddress, count: Int(msg.msg_controllen)))
                    passedFds = true
                    fputs("qtfs relay: a message carried file descriptors (SCM_RIGHTS), which cannot cross machines; connection closed\n", stderr)
                }
                return r
            }
        }
    }

    /// Closes every fd in SCM_RIGHTS control messages (struct cmsghdr: size_t len, int
    /// level, int type, data; each aligned to 8 bytes on 64-bit Linux).
    static func closeRights(_ ctl: UnsafeRawBufferPointer) {
        var at = 0
        while at + 16 <= ctl.count {
            let len = Int(ctl.loadUnaligned(fromByteOffset: at, as: UInt.self))
            let level = ctl.loadUnaligned(fromByteOffset: at + 8, as: Int32.self)
            let type = ctl.loadUnaligned(fromByteOffset: at + 12, as: Int32.self)
            guard len >= 16, at + len <= ctl.count else { return }
            if level == SOL_SOCKET && type == 1 {   // SCM_RIGHTS
                for i in 0..<((len - 16) / 4) { close(ctl.loadUnaligned(fromByteOffset: at + 16 + 4 * i, as: Int32.self)) }
            }
            at += (len + 7) & ~7
        }
    }

    /// A zero-length SOCK_SEQPACKET read is either an empty message or the end: the peer
    /// closing also shows as POLLRDHUP/POLLHUP.
    private func isEOF(_ fd: Int32) -> Bool {
        let rdhup: Int16 = 0x2000   // POLLRDHUP (GNU)
        var p = pollfd(fd: fd, events: rdhup, revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents & (rdhup | Int16(POLLHUP)) != 0
    }

    func closeBoth() { close(local); close(net) }
}

func setNonBlocking(_ fd: Int32) {
    let fl = fcntl(fd, F_GETFL)
    if fl >= 0 { _ = fcntl(fd, F_SETFL, fl | O_NONBLOCK) }
}

/// A pthread mutex (this module has no other dependency).
final class NSLockLike: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m); defer { pthread_mutex_unlock(m) }
        return try body()
    }
}
