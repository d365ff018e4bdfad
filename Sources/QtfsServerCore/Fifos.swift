// The fifo part of the engine (docs/server.md, "Fifos"). It owns what waits on streams:
// fifo OPENs waiting for their other end (here), blocked fifo READs and WRITEs
// (FifoIO.swift), armed POLLs and CANCEL (FifoPolls.swift). No thread waits: a waiting open
// is an entry in `waits`, re-checked when inotify reports an open of that fifo (the usual
// wake-up) and on a 100 ms tick while any entry waits (the only way to see a host reader
// that blocks inside its own open(2): inotify reports an open only once it has returned).
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

final class Fifos {
    static let tickMs: UInt32 = 100

    private var waits: [FifoWaiter] = []
    private var tickArmed = false
    private var inotifyFd: Int32 = -1
    private var notifyArmed = false
    private var watchUsers: [Int32: Int] = [:]   // inotify wd -> waiters using it
    private let eventBuf = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 8)
    /// Armed POLLs (FifoPolls.swift); touched only by this part.
    var armedPolls: Set<PollKey> = []
    /// One watch per handle and mask: a writer's POLLOUT is not lost behind a POLLIN watch.
    struct PollKey: Hashable { let conn: UInt64; let handle: UInt64; let events: Int16 }

    unowned(unsafe) let engine: Engine   // the engine owns this part (Engine.swift, "parts")
    let logger: Logger

    init(engine: Engine, logger: Logger) { self.engine = engine; self.logger = logger }

    deinit { eventBuf.deallocate() }

    /// A fifo OPEN waits for its other end (the Router said so: `FifoMustWait`).
    func startWaiting(_ w: FifoWaiter) {
        w.conn.inFlight += 1
        waits.append(w)
        watch(w)
        armTick()
        logger.debug("fifo open waits for its other end", metadata: ["conn.id": "\(w.conn.id)", "req.id": "\(w.id)",
                                                                     "reader": "\(w.wait.isReader)"])
    }

    /// CANCEL of request `id`: the waiting open is dropped and answered EINTR; false when
    /// no open of `c` waits with that id.
    func cancelWait(_ c: Connection, id: UInt64) -> Bool {
        guard let w = waits.first(where: { $0.conn === c && $0.id == id }) else { return false }
        drop(w)
        engine.fail(c, FrameHeader(kind: .request, opcode: Opcode.open.rawValue, id: w.id, length: 0), EINTR)
        logger.debug("fifo open cancelled", metadata: ["conn.id": "\(c.id)", "req.id": "\(w.id)"])
        return true
    }

    /// The connection is closing: the fifo opens it waits for are dropped.
    func connectionClosing(_ c: Connection) {
        for w in waits where w.conn === c { drop(w) }
    }

    // MARK: wake-ups

    private func watch(_ w: FifoWaiter) {
        if inotifyFd < 0 {
            inotifyFd = qtfs_inotify_init()
            if inotifyFd < 0 {
                logger.warning("inotify unavailable, fifo opens are re-checked every \(Fifos.tickMs) ms only")
                return
            }
        }
        try? Credentials.asServer()
        w.wd = qtfs_inotify_watch_open(inotifyFd, "/proc/self/fd/\(w.wait.watchFd)")
        if w.wd >= 0 { watchUsers[w.wd, default: 0] += 1 }
        armNotify()
    }

    private func unwatch(_ w: FifoWaiter) {
        guard w.wd >= 0, let n = watchUsers[w.wd] else { return }
        if n > 1 { watchUsers[w.wd] = n - 1; return }
        watchUsers[w.wd] = nil
        _ = inotify_rm_watch(inotifyFd, w.wd)
    }

    private func armTick() {
        guard !tickArmed, !waits.isEmpty, !engine.stopping else { return }
        tickArmed = engine.submit(.fifoTick) { qtfs_uring_timeout(engine.ring, Fifos.tickMs, $0) }
    }

    private func armNotify() {
        guard !notifyArmed, inotifyFd >= 0, !waits.isEmpty, !engine.stopping else { return }
        notifyArmed = engine.submit(.fifoNotify) { qtfs_uring_poll_add(engine.ring, inotifyFd, UInt32(POLLIN), $0) }
    }

    /// The 100 ms tick fired.
    func ticked() {
        tickArmed = false
        recheck { _ in true }
        armTick()
    }

    /// The inotify fd is readable: the waiters of the fifos it names are re-checked.
    func notified() {
        notifyArmed = false
        var wds = Set<Int32>()
        while true {
            let n = Glibc.read(inotifyFd, eventBuf, 4096)
            if n <= 0 { break }
            var off = 0
            while off + 16 <= n {   // struct inotify_event: wd, mask, cookie, len, name[len]
                wds.insert(eventBuf.loadUnaligned(fromByteOffset: off, as: Int32.self))
                off += 16 + Int(eventBuf.loadUnaligned(fromByteOffset: off + 12, as: UInt32.self))
            }
        }
        recheck { wds.contains($0.wd) }
        armNotify()
    }

    /// Completes every selected waiter whose other end is there now; drops those whose
    /// connection is gone.
    private func recheck(_ selected: (FifoWaiter) -> Bool) {
        for w in waits where selected(w) {
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
            let opened = try engine.backend.register(fd, w.wait.export, w.conn.handles, withAttr: w.conn.handles.opensWithAttr)
            engine.reply(w.conn, h, .open, opened)
        } catch {
            engine.fail(w.conn, h, (error as? Errno)?.code ?? EIO)
        }
        engine.io.pump(w.conn)
    }

    /// Forgets a waiter and closes its fds (cancelled, or its connection closed).
    private func drop(_ w: FifoWaiter) {
        remove(w)
        w.wait.closeFds()
        w.conn.inFlight -= 1
    }

    private func remove(_ w: FifoWaiter) {
        waits.removeAll { $0 === w }
        unwatch(w)
    }
}
