// Frames a connection holds back to send with its next frame: the RELEASE of a pseudo
// file (proc, sysfs, cgroup) opened read-only. Sent alone, each costs the server a turn of
// its loop in the middle of scans that open file after file (ps, a cgroup walk). Sent with
// the next request, it travels in that request's sendmsg and is handled in the same turn
// on the server. When no request follows within `HeldFrames.delay`, the flusher thread
// sends it alone, so the host file is closed at most that much later than before (and a
// burst of closes that fills `maxBytes` goes at once).
// Only pseudo files: a file or directory of another file system held open on the host
// can make an unmount there fail with EBUSY (dockerd's overlay2 check did, with every
// read-only close held), and a writable handle's close must reach the host at once (a
// program executed on the host right after it was written would get ETXTBSY). A cgroup
// with a file still open can be removed (rmdir succeeds; the file then reads ENODEV), and
// the host's /proc, /sys and cgroup mounts are not unmounted while it runs.
#if canImport(Glibc)
import Glibc
#endif
import QtfsSystem

/// A connection's held frames, already sealed in stream order (touched only under the
/// connection's send lock, so nothing sealed later can overtake them).
final class HeldFrames {
    /// The longest a held frame waits for a request to carry it (seconds). Measured with
    /// ps and cgroup scans: 1 ms woke the flusher so often that the cgroup scan lost what
    /// it gained; 2 ms and 5 ms gave the same gains (docs/client.md, "Closing files").
    static let delay = 0.002
    /// Held bytes that are sent at once rather than held further (a burst of closes).
    static let maxBytes = 8192

    var bytes: [UInt8] = []
}

/// The one thread that sends the held frames no request carried within `HeldFrames.delay`.
final class HeldFlusher: @unchecked Sendable {
    static let shared = HeldFlusher()

    private let lock = Lock()
    private let cond = Condition()
    private var due: [Connection] = []   // protected by lock
    private var running = false          // protected by lock

    /// `c` holds a frame now: it is sent within `HeldFrames.delay` unless a request takes it.
    func schedule(_ c: Connection) {
        lock.lock()
        defer { lock.unlock() }
        if !due.contains(where: { $0 === c }) { due.append(c) }
        if !running { running = (try? Threads.start { [self] in loop() }) != nil }
        cond.signal()
    }

    private func loop() {
        while true {
            lock.lock()
            while due.isEmpty { cond.wait(lock) }
            lock.unlock()
            var ts = timespec(tv_sec: 0, tv_nsec: Int(HeldFrames.delay * 1e9))
            nanosleep(&ts, nil)
            let ready = lock.withLock { () -> [Connection] in
                defer { due.removeAll() }
                return due
            }
            for c in ready { c.flushHeld() }
        }
    }
}
