// OPEN_READ: OPEN plus the whole content of a small file opened read-only, so that
// open+read+close costs the client one round trip (docs/protocol.md).
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

extension Backend {
    /// `.mustNotWait`: only an ordinary file whose pages are all in memory is read (RWF_NOWAIT,
    /// or any tmpfs file); otherwise the file is closed again (`WouldWait`) and the request is
    /// made again where it may wait: open+read stays one round trip. A pseudo file waits
    /// too, because reading /proc/PID/cmdline can wait on the target's memory lock, unless
    /// it is one of the few that never do (PseudoReads).
    func openRead(_ r: OpenReadRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> OpenReadReply {
        let noWait = waiting == .mustNotWait
        let (opened, readsAtOnce) = try open(r.open, handles, waiting, pseudoWaits: true)
        let flags = Int32(bitPattern: r.open.flags)
        let readOnly = flags & O_ACCMODE == O_RDONLY && flags & O_TRUNC == 0
        guard readOnly, r.maxBytes > 0, opened.flags & OpenReply.nonSeekable == 0,
              let h = handles.get(opened.handle), !h.isDirectory else {
            return OpenReadReply(opened, content: [])
        }
        let pseudo = opened.flags & OpenReply.directIO != 0
        let read = pseudo ? (noWait && !readsAtOnce ? .wouldWait : Self.wholePseudo(h.fd, Int(r.maxBytes), blocks: !readsAtOnce))
                          : Self.wholeOrdinary(h.fd, Int(r.maxBytes), nowait: noWait && !h.memoryBacked)
        let content: [UInt8]
        switch read {
        case .content(let c): content = c
        case .none: return OpenReadReply(opened, content: [])
        case .wouldWait:
            _ = handles.remove(opened.handle)
            throw WouldWait()
        }
        var withContent = opened
        withContent.flags |= OpenReadReply.hasContent
        return OpenReadReply(withContent, content: content)
    }

    /// LOOKUP_OPEN: LOOKUP, and for a regular file OPEN_READ too, so a kernel client's open
    /// of a name it has not looked up costs one round trip. The attributes of an opened file
    /// are its handle's own (fstat), so a name replaced between the two steps cannot pair one
    /// file's attributes with another's handle.
    func lookupOpen(_ r: OpenReadRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> LookupOpenReply {
        let found = try lookup(PathRequest(caller: r.open.caller, target: r.open.target)).attr
        guard Stat.type(found.mode) == S_IFREG else {
            return LookupOpenReply(attr: found, opened: OpenReadReply(OpenReply(handle: 0), content: []))
        }
        let opened = try openRead(r, handles, waiting)
        do {
            guard let h = handles.get(opened.open.handle) else { throw Errno(EBADF) }
            return LookupOpenReply(attr: try pseudo.attr(fd: h.fd), opened: opened)
        } catch {
            _ = handles.remove(opened.open.handle)   // the client gets no handle to release
            throw error
        }
    }

    enum WholeRead { case content([UInt8]), none, wouldWait }

    /// An ordinary file's content if it is at most `max` bytes. `nowait`: only pages already
    /// in memory are read (false for tmpfs, which has no RWF_NOWAIT and never waits on a device).
    private static func wholeOrdinary(_ fd: Int32, _ max: Int, nowait: Bool) -> WholeRead {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size <= max else { return .none }
        let size = Int(st.st_size)
        var buf = [UInt8](repeating: 0, count: size + 1)   // one more: a file that grew meanwhile is refused
        let n = read(fd, &buf, nowait: nowait)
        if n < 0 && nowait && (errno == EAGAIN || errno == EOPNOTSUPP) { return .wouldWait }
        guard n >= 0, n <= size else { return .none }
        buf.removeLast(buf.count - n)
        return .content(buf)
    }

    private static func read(_ fd: Int32, _ buf: inout [UInt8], nowait: Bool) -> Int {
        (try? sys("pread") {
            buf.withUnsafeMutableBytes {
                nowait ? qtfs_pread_nowait(fd, $0.baseAddress, UInt($0.count), 0) : pread(fd, $0.baseAddress, $0.count, 0)
            }
        }) ?? -1
    }

    /// A pseudo file's content if it is at most `max` bytes, read without blocking (a file
    /// like /proc/kmsg that would wait for data gives none). Its size says nothing (0 or
    /// 4096), so it is read until a read returns 0. `blocks: false` for a file known never
    /// to wait for data (PseudoReads): O_NONBLOCK would change nothing, so its three fcntl
    /// calls are saved (ps reads two such files per process), and so is the read that
    /// would only confirm the end.
    private static func wholePseudo(_ fd: Int32, _ max: Int, blocks: Bool) -> WholeRead {
        let old = blocks ? fcntl(fd, F_GETFL) : 0
        guard old >= 0, !blocks || fcntl(fd, F_SETFL, old | O_NONBLOCK) == 0 else { return .none }
        defer { if blocks { _ = fcntl(fd, F_SETFL, old) } }
        // Most are far below `max` (64 KiB): start at a page and grow when full.
        var buf = [UInt8](repeating: 0, count: min(max + 1, 4096))
        var used = 0
        while true {
            if used == buf.count {
                guard buf.count <= max else { return .none }   // more than max bytes
                buf.append(contentsOf: repeatElement(0, count: min(buf.count, max + 1 - buf.count)))
            }
            guard let n = try? sys("pread", { buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + used, $0.count - used, off_t(used)) } })
            else { return .none }
            // A file that never waits is one whole snapshot (one seq_file show): a read
            // shorter than asked for has reached its end, and the empty read is saved.
            if n == 0 || (!blocks && n < buf.count - used) {
                used += n
                buf.removeLast(buf.count - used)
                return .content(buf)
            }
            used += n
        }
    }
}
