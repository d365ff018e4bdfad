// Relays bridged unix-socket connections over their qtfs TCP connections, both on the
// server and on the client (docs/protocol.md, "Unix socket bridge"). One thread with
// poll(2) serves every pair, so connections cost buffers, not threads.
//
// After the SOCK_CONNECT / SOCK_ACCEPT exchange the TCP connection carries the socket's
// bytes as they are (SOCK_STREAM), or one frame per message, `u32 length` + bytes
// (SOCK_SEQPACKET), or, when both sides agreed to pass file descriptors, one record per
// message or read (PassedFiles.swift). End of data on one side is shut down (SHUT_WR) on
// the other; an error on either closes both.
#if canImport(Glibc)
import Glibc
#endif
import QtfsSystem

public final class RelayLoop: @unchecked Sendable {
    /// Largest SOCK_SEQPACKET message relayed (a bigger one closes the pair).
    public static let maxMessage = 256 * 1024
    static let chunk = 64 * 1024

    private let lock = Lock()
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
        // The relay thread keeps the loop alive; failing to start one means the process
        // is out of threads, and the pairs added later are never served (as before).
        _ = try? Threads.start { [self] in run() }
    }

    /// Live pairs (for tests and diagnostics).
    public var count: Int { lock.withLock { liveCount } }
    private var liveCount = 0   // protected by lock

    /// Takes ownership of both fds. `toLocal`: bytes that already arrived on `net` for the
    /// local socket; `toNet`: bytes to send on `net` first, as they are (an answer frame:
    /// on a sealed connection, sealed with `seal.sealed(frame:)`). `files`: both sides
    /// agreed to pass file descriptors, translated by it; nil: they are dropped. `seal`:
    /// the connection is sealed, and so is the relay.
    public func add(local: Int32, net: Int32, seqpacket: Bool, files: FdTranslator? = nil,
                    toLocal: [UInt8] = [], toNet: [UInt8] = [], seal: RelaySeal? = nil) {
        add(Pair(local: local, net: net, seqpacket: seqpacket, files: files, seal: seal), toLocal: toLocal, toNet: toNet)
    }

    /// Relays a pipe end over `net` as raw bytes: `source` reads it (its data goes to the
    /// network), otherwise it is written with what arrives. Takes ownership of both fds.
    public func addPipe(_ end: Int32, source: Bool, net: Int32, toLocal: [UInt8] = [], toNet: [UInt8] = [], seal: RelaySeal? = nil) {
        add(Pair(local: end, net: net, seqpacket: false, files: nil, end: source ? .pipeSource : .pipeSink, seal: seal),
            toLocal: toLocal, toNet: toNet)
    }

    private func add(_ p: Pair, toLocal: [UInt8], toNet: [UInt8]) {
        setNonBlocking(p.local); setNonBlocking(p.net)
        p.early = toLocal
        p.fromLocal.out = toNet
        lock.withLock { incoming.append(p); liveCount += 1 }
        var b: UInt8 = 1
        _ = write(wake.w, &b, 1)
    }

    private func run() {
        // A write to a pipe whose reader is gone fails with EPIPE here instead of killing
        // the process (blocked in this thread only: programs it starts keep SIGPIPE).
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal); sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        var buf = [UInt8](repeating: 0, count: RelayLoop.maxMessage + Pair.headroom)
        while true {
            let fresh = lock.withLock { () -> [Pair] in defer { incoming = [] }; return incoming }
            pairs += fresh
            for p in fresh {
                p.early.withUnsafeBytes { p.receiveFromNet($0) }
                p.early = []
            }
            var fds = [pollfd(fd: wake.r, events: Int16(POLLIN), revents: 0)]
            for p in pairs { fds += p.pollFds() }
            guard (try? sys("poll") { poll(&fds, nfds_t(fds.count), -1) }) != nil else { return }
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

func setNonBlocking(_ fd: Int32) {
    let fl = fcntl(fd, F_GETFL)
    if fl >= 0 { _ = fcntl(fd, F_SETFL, fl | O_NONBLOCK) }
}

/// Pipes passed across a relay meet their data connection here (server side): the pipe
/// end kept for the local process arrives from the relay thread, the qtfs connection that
/// carries its data from the network (SOCK_ACCEPT with the pipe's token), in either
/// order. Whichever comes second starts the pipe's relay; one left alone for a minute is
/// closed.
public final class PipeMeeting: @unchecked Sendable {
    public static let maxWaiting = 256
    static let patience: Int64 = 60

    private enum Half { case end(Int32, source: Bool), net(Int32, toLocal: [UInt8], toNet: [UInt8], seal: RelaySeal?) }
    private let lock = Lock()
    private var waiting: [UInt64: (Half, since: Int64)] = [:]   // protected by lock
    private let relay: RelayLoop

    public init(relay: RelayLoop) { self.relay = relay }

    /// The pipe end kept for `token`; false (and `end` closed) when too many wait.
    @discardableResult
    public func meet(_ token: UInt64, end: Int32, source: Bool) -> Bool { meet(token, .end(end, source: source)) }

    /// The connection claiming `token`, with what arrived after its request, the answer
    /// to send first and its sealing; false (and `net` closed) when too many wait.
    @discardableResult
    public func meet(_ token: UInt64, net: Int32, toLocal: [UInt8], toNet: [UInt8], seal: RelaySeal? = nil) -> Bool {
        meet(token, .net(net, toLocal: toLocal, toNet: toNet, seal: seal))
    }

    private func meet(_ token: UInt64, _ half: Half) -> Bool {
        let now = Int64(time(nil))
        let (other, stale, room) = lock.withLock { () -> (Half?, [Half], Bool) in
            let old = waiting.filter { now - $0.value.since > Self.patience }
            old.keys.forEach { waiting[$0] = nil }
            if let o = waiting.removeValue(forKey: token) { return (o.0, old.map { $0.value.0 }, true) }
            guard waiting.count < Self.maxWaiting else { return (nil, old.map { $0.value.0 }, false) }
            waiting[token] = (half, now)
            return (nil, old.map { $0.value.0 }, true)
        }
        (stale + (room ? [] : [half])).forEach(Self.close)
        guard let other else { return room }
        switch (half, other) {
        case let (.end(e, source), .net(n, toLocal, toNet, seal)), let (.net(n, toLocal, toNet, seal), .end(e, source)):
            relay.addPipe(e, source: source, net: n, toLocal: toLocal, toNet: toNet, seal: seal)
        default:   // the same token twice from one side: nothing to pair
            Self.close(half); Self.close(other)
        }
        return true
    }

    private static func close(_ h: Half) {
        switch h {
        case .end(let fd, _), .net(let fd, _, _, _): Glibc.close(fd)
        }
    }
}
