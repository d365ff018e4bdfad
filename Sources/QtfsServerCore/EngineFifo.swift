// Fifo OPENs that wait for their other end, on the event loop (docs/server.md, "Fifos").
// No thread waits: a waiting open is an entry in `StreamState.waits`, re-checked when
// inotify reports an open of that fifo (the usual wake-up) and on a 100 ms tick while any
// entry waits (the only way to see a host reader that blocks inside its own open(2):
// inotify reports an open only once it has returned).
import Glibc
internal import CQtfsSys
internal import CQtfsUring
import Logging
import QtfsProtocol
import QtfsSystem

/// One fifo OPEN waiting for its other end.
final class FifoWaiter {
    let conn: Connection
    let id: UInt64
    let wait: FifoMustWait
    var wd: Int32 = -1
    init(conn: Connection, id: UInt64, wait: FifoMustWait) { self.conn = conn; self.id = id; self.wait = wait }
}

/// An armed POLL: one per handle at a time.
struct PollWatch {
    let handleId: UInt64
    let handle: OpenHandle
    let events: Int16   // what it waits for
}

/// Loop-owned state for fifos and polls.
final class StreamState {
    var waits: [FifoWaiter] = []
    var tickArmed = false
    var inotifyFd: Int32 = -1
    var notifyArmed = false
    var watchUsers: [Int32: Int] = [:]   // inotify wd -> waiters using it
    var armedPolls: Set<PollKey> = []
    var listeners: [SockListener] = []
    /// Host connections accepted on a SOCK_LISTEN socket, waiting for their SOCK_ACCEPT.
    var accepted: [UInt64: (fd: Int32, listener: SockListener)] = [:]
    var nextToken: UInt64 = 1
    let eventBuf = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 8)

    /// One watch per handle and mask: a writer's POLLOUT is not lost behind a POLLIN watch.
    struct PollKey: Hashable { let conn: UInt64; let handle: UInt64; let events: Int16 }
}

extension Engine {
    static let fifoTickMs: UInt32 = 100

    /// A fifo OPEN waits for its other end (the Router said so: `FifoMustWait`).
    func startWaiting(_ w: FifoWaiter) {
        w.conn.inFlight += 1
        streams.waits.append(w)
        watch(w)
        armFifoTick()
        logger.debug("fifo open waits for its other end", metadata: ["conn.id": "\(w.conn.id)", "req.id": "\(w.id)",
                                                                     "reader": "\(w.wait.isReader)"])
    }

    // MARK: wake-ups

    private func watch(_ w: FifoWaiter) {
        let s = streams
        if s.inotifyFd < 0 {
            s.inotifyFd = qtfs_inotify_init()
            if s.inotifyFd < 0 {
                logger.warning("inotify unavailable, fifo opens are re-checked every \(Engine.fifoTickMs) ms only")
                return
            }
        }
        try? Credentials.asServer()
        w.wd = qtfs_inotify_watch_open(s.inotifyFd, "/proc/self/fd/\(w.wait.watchFd)")
        if w.wd >= 0 { s.watchUsers[w.wd, default: 0] += 1 }
        armFifoNotify()
    }

    private func unwatch(_ w: FifoWaiter) {
        let s = streams
        guard w.wd >= 0, let n = s.watchUsers[w.wd] else { return }
        if n > 1 { s.watchUsers[w.wd] = n - 1; return }
        s.watchUsers[w.wd] = nil
        _ = inotify_rm_watch(s.inotifyFd, w.wd)
    }

    private func armFifoTick() {
        guard !streams.tickArmed, !streams.waits.isEmpty, !stopping else { return }
        streams.tickArmed = submit(.fifoTick) { qtfs_uring_timeout(ring, Engine.fifoTickMs, $0) }
    }

    private func armFifoNotify() {
        let s = streams
        guard !s.notifyArmed, s.inotifyFd >= 0, !s.waits.isEmpty, !stopping else { return }
        s.notifyArmed = submit(.fifoNotify) { qtfs_uring_poll_add(ring, s.inotifyFd, UInt32(POLLIN), $0) }
    }

    func fifoTick() {
        streams.tickArmed = false
        recheck { _ in true }
        armFifoTick()
    }

    func fifoNotified() {
        let s = streams
        s.notifyArmed = false
        var wds = Set<Int32>()
        while true {
            let n = read(s.inotifyFd, s.eventBuf, 4096)
            if n <= 0 { break }
            var off = 0
            while off + 16 <= n {   // struct inotify_event: wd, mask, cookie, len, name[len]
                wds.insert(s.eventBuf.loadUnaligned(fromByteOffset: off, as: Int32.self))
                off += 16 + Int(s.eventBuf.loadUnaligned(fromByteOffset: off + 12, as: UInt32.self))
            }
        }
        recheck { wds.contains($0.wd) }
        armFifoNotify()
    }

    /// Completes every selected waiter whose other end is there now; drops those whose
    /// connection is gone.
    private func recheck(_ selected: (FifoWaiter) -> Bool) {
        for w in streams.waits where selected(w) {
            if w.conn.closing { drop(w); continue }
            if let fd = peerFd(w.wait) { finish(w, fd) }
        }
    }

    private func peerFd(_ m: FifoMustWait) -> Int32? {
        if m.isReader { return FifoOpen.writerPresent(m.readFd) ? m.readFd : nil }
        return FifoOpen.retryWriter(m)
    }

    private func finish(_ w: FifoWaiter, _ fd: Int32) {
        remove(w)
        if w.wait.pathFd >= 0 { close(w.wait.pathFd) }
        let h = FrameHeader(kind: .request, opcode: Opcode.open.rawValue, id: w.id, length: 0)
        w.conn.inFlight -= 1
        do {
            let (handle, flags) = try backend.register(fd, w.wait.export, w.conn.handles)
            reply(w.conn, h, .open, OpenReply(handle: handle, flags: flags))
        } catch {
            fail(w.conn, h, (error as? Errno)?.code ?? EIO)
        }
        pump(w.conn)
    }

    /// Forgets a waiter and closes its fds (cancelled, or its connection closed).
    func drop(_ w: FifoWaiter) {
        remove(w)
        w.wait.closeFds()
        w.conn.inFlight -= 1
    }

    private func remove(_ w: FifoWaiter) {
        streams.waits.removeAll { $0 === w }
        unwatch(w)
    }
}
