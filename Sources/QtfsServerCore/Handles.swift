// Open files and directories of one connection. A handle is reference counted: the fd
// is closed when the table has dropped it (RELEASE, disconnect) and no operation in
// flight (a worker, an io_uring read) still holds it, so an fd number is never reused
// under a running operation.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

final class OpenHandle: @unchecked Sendable {
    let fd: Int32
    let isDirectory: Bool
    /// Fifos, sockets, character devices: reads and writes ignore the offset.
    let nonSeekable: Bool
    let export: Export
    /// A fifo opened on the loop: its fd stays O_NONBLOCK and reads and writes wait for
    /// readiness on the loop (FifoIO.swift) instead of in the ring.
    var isFifo = false
    /// A regular file on tmpfs or ramfs: its small reads and writes are done on the loop.
    /// io_uring would hand each to a worker thread (tmpfs has no non-blocking mode), which
    /// costs two thread switches per request for a copy of a few pages.
    var memoryBacked = false
    /// Who opened it, when that is a caller without CAP_FSETID and the file had setuid or
    /// setgid bits: writes clear them as the host kernel does for such a writer
    /// (`Backend.dropSetIdAfterWrite`).
    var setIdWriter: Caller?
    /// Serialises READDIR on a directory handle (it seeks the shared fd offset).
    let dirLock = Lock()

    init(fd: Int32, isDirectory: Bool, nonSeekable: Bool, export: Export) {
        self.fd = fd; self.isDirectory = isDirectory; self.nonSeekable = nonSeekable; self.export = export
    }
    deinit { close(fd) }
}

final class HandleTable: @unchecked Sendable {
    /// Open handles allowed at once (`max_handles`); more answer EMFILE.
    let limit: Int
    private let lock = Lock()
    private var next: UInt64 = 1
    private var open: [UInt64: OpenHandle] = [:]
    private var closed = false

    /// The client asked in HELLO for the attributes of what it opens (OPEN_ATTR): answers
    /// to OPEN, OPEN_READ and OPENDIR on this connection carry them. Set once, before any open.
    var opensWithAttr = false

    init(limit: Int = Int.max) { self.limit = limit }

    /// Adds a handle. EBADF when the connection is already gone, EMFILE at the limit (the
    /// handle is then dropped, closing its fd).
    func add(_ h: OpenHandle) throws -> UInt64 {
        try lock.withLock {
            guard !closed else { throw Errno(EBADF) }
            guard open.count < limit else { throw Errno(EMFILE) }
            let id = next
            next &+= 1
            open[id] = h
            return id
        }
    }

    func get(_ id: UInt64) -> OpenHandle? { lock.withLock { open[id] } }

    func remove(_ id: UInt64) -> OpenHandle? { lock.withLock { open.removeValue(forKey: id) } }

    /// The connection closed: forget every handle and refuse new ones.
    func closeAll() {
        let dropped = lock.withLock { () -> [UInt64: OpenHandle] in
            closed = true
            defer { open = [:] }
            return open
        }
        _ = dropped   // released here, outside the lock
    }

    var count: Int { lock.withLock { open.count } }
}
