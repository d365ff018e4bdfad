// Opening a fifo on the event loop without ever blocking it (docs/server.md, "Fifos").
// The open is always made with O_NONBLOCK; when the caller wanted a blocking open and
// the other end is missing, the OPEN waits in the engine's fifo part (Fifos.swift, no
// thread) until it comes. The fd stays O_NONBLOCK: READ and WRITE wait for readiness on
// the loop.
import Glibc
internal import CQtfsSys
import QtfsSystem

/// A fifo OPEN whose other end is not there yet. Owns its fds until handed to the fifo part (Fifos).
struct FifoMustWait: Error {
    let export: Export
    /// The caller's open flags (as sent, minus O_CREAT and co.).
    let flags: Int32
    /// A reader's own read end, held while it waits for a writer; -1 for a writer.
    let readFd: Int32
    /// A writer's O_PATH fd of the fifo (reopened when a reader comes); -1 for a reader.
    let pathFd: Int32

    var isReader: Bool { readFd >= 0 }
    /// The fd the inotify watch is placed through (/proc/self/fd/N).
    var watchFd: Int32 { isReader ? readFd : pathFd }

    func closeFds() {
        if readFd >= 0 { close(readFd) }
        if pathFd >= 0 { close(pathFd) }
    }
}

enum FifoOpen {
    static let pathFlags = O_PATH | O_NOFOLLOW | O_CLOEXEC

    /// A non-blocking writer open failed with ENXIO: if the target is a fifo (not a socket
    /// or a device without driver, which give ENXIO too) and the caller may wait, waits.
    static func writerMustWait(_ flags: Int32, _ e: Export, _ openPath: () throws -> Int32) throws {
        let pathFd = try openPath()
        var st = stat()
        guard fstat(pathFd, &st) == 0, Stat.type(st.st_mode) == S_IFIFO else {
            close(pathFd)
            throw Errno(ENXIO)
        }
        throw FifoMustWait(export: e, flags: flags, readFd: -1, pathFd: pathFd)
    }

    /// After a successful non-blocking open of a fifo: ready (fd made blocking) unless a
    /// blocking reader finds no writer, which waits.
    static func readyOrWait(_ fd: Int32, _ flags: Int32, _ e: Export) throws {
        let mustWait = flags & O_NONBLOCK == 0 && flags & O_ACCMODE == O_RDONLY && !writerPresent(fd)
        if mustWait { throw FifoMustWait(export: e, flags: flags, readFd: fd, pathFd: -1) }
    }

    /// Whether a fifo read end has a writer (or unread data), without consuming anything.
    static func writerPresent(_ fd: Int32) -> Bool {
        let r = qtfs_fifo_peek(fd, scratch.w)
        if r == 1 { drainScratch() }
        return r == 1 || r == 2
    }

    /// The private pipe `tee` copies into when peeking (loop thread only).
    nonisolated(unsafe) private static let scratch: (r: Int32, w: Int32) = {
        var p: [Int32] = [-1, -1]
        _ = pipe(&p)
        for fd in p { _ = fcntl(fd, F_SETFL, O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (p[0], p[1])
    }()

    private static func drainScratch() {
        var buf = [UInt8](repeating: 0, count: 256)
        while read(scratch.r, &buf, buf.count) > 0 {}
    }

    /// A waiting writer tries again: the fd when a reader is there now, nil otherwise.
    static func retryWriter(_ w: FifoMustWait) -> Int32? {
        try? Credentials.asServer()
        let flags = (w.flags & ~(O_NOFOLLOW | O_NONBLOCK)) | O_NONBLOCK | O_CLOEXEC
        let fd = open("/proc/self/fd/\(w.pathFd)", flags)
        return fd >= 0 ? fd : nil
    }
}
