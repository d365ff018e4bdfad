// File descriptors passed with SCM_RIGHTS over a relayed unix socket (docs/protocol.md,
// "Passing file descriptors"). A descriptor cannot cross machines; a regular file that both
// sides reach through qtfs can: the sending side names it by its host path, open flags and
// offset, and the receiving side opens that file again and passes its own descriptor.
// Which files qualify, and how paths map, is the translator's business (server or client).
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

/// A regular file as it crosses the relay, or a pipe (no path; `offset` is its token).
public struct PassedFile: Equatable, Sendable {
    public var flags: UInt32      // open(2) flags of the sender's open file (O_ACCMODE, O_APPEND...)
    public var offset: UInt64     // its file offset; a pipe's token
    public var path: [UInt8]      // absolute host path; empty for a pipe
    public init(flags: UInt32, offset: UInt64, path: [UInt8]) { self.flags = flags; self.offset = offset; self.path = path }

    /// Pipe tokens have this bit, SOCK_INCOMING tokens never.
    public static let pipeTokenBit: UInt64 = 1 << 63

    /// A pipe end: `flags` O_RDONLY or O_WRONLY, the end the receiver gets.
    public static func pipe(flags: UInt32, token: UInt64) -> PassedFile { PassedFile(flags: flags, offset: token, path: []) }
    public var isPipe: Bool { path.isEmpty }
    public var token: UInt64 { offset }
}

/// The ends of a relayed pipe: the process on each side holds one, the relay on each side
/// holds the other, and the data goes between the two relays on a qtfs connection of its
/// own (claimed with SOCK_ACCEPT and the pipe's token).
public enum PipeEnds {
    /// A pipe end a local process passed: a duplicate for the relay, whether the relay
    /// reads it (the process gave away a read end: data written here goes across), and
    /// its description with a new token.
    public static func keep(_ fd: Int32) -> Result<(end: Int32, source: Bool, file: PassedFile), FdRefusal> {
        let access = fcntl(fd, F_GETFL) & O_ACCMODE
        guard access == O_RDONLY || access == O_WRONLY else {
            return .failure(FdRefusal("a fifo open for reading and writing", "only one direction can be relayed"))
        }
        let end = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard end >= 0 else { return .failure(FdRefusal("a pipe", String(cString: strerror(errno)))) }
        let token = PassedFile.pipeTokenBit | UInt64.random(in: 0..<PassedFile.pipeTokenBit)
        return .success((end, access == O_RDONLY, PassedFile.pipe(flags: UInt32(access), token: token)))
    }

    /// A pipe passed from the other side: the end to give to the local process (of the
    /// sender's access mode), the end the relay keeps, and whether the relay reads it.
    public static func make(_ file: PassedFile) -> Result<(give: Int32, keep: Int32, source: Bool), FdRefusal> {
        var p: [Int32] = [-1, -1]
        guard pipe(&p) == 0 else { return .failure(FdRefusal("a pipe", String(cString: strerror(errno)))) }
        p.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        let readerHere = Int32(bitPattern: file.flags) & O_ACCMODE == O_RDONLY
        return .success(readerHere ? (p[0], p[1], false) : (p[1], p[0], true))
    }
}

/// Why a passed descriptor was dropped instead of relayed.
public struct FdRefusal: Error, Sendable {
    public let what: String       // "a pipe", "/data/x"
    public let why: String
    public init(_ what: String, _ why: String) { self.what = what; self.why = why }
}

/// Maps passed descriptors to and from `PassedFile`, for one relayed connection.
public protocol FdTranslator: Sendable {
    /// The file a local process passed (`fd` is the relay's own copy; the caller closes it).
    func describe(_ fd: Int32) -> Result<PassedFile, FdRefusal>
    /// A descriptor for a file the other side passed, to give to the local process.
    func reopen(_ file: PassedFile) -> Result<Int32, FdRefusal>
    /// One line for the log (a dropped descriptor); the connection goes on.
    func log(_ line: String)
}

extension FdTranslator {
    func logDropped(_ r: FdRefusal, received: Bool) { log(r.line(received: received)) }
}

extension FdRefusal {
    /// The refusal as one log line.
    func line(received: Bool) -> String {
        let side = received ? "received from the other side" : "passed by the local process"
        return "qtfs relay: dropped a file descriptor \(side): \(what): \(why); the message's bytes were relayed without it"
    }

    /// What a descriptor is, for a relay that passes none.
    static func unpassable(_ fd: Int32) -> FdRefusal {
        var st = stat()
        let what = fstat(fd, &st) != 0 ? "a descriptor" : st.st_mode & S_IFMT == S_IFREG ? FileKind.path(of: fd) : FileKind.name(st.st_mode)
        return FdRefusal(what, "the other end of this relay does not take file descriptors (an older qtfs)")
    }
}

/// The framing of a relay with descriptors: every message (SOCK_SEQPACKET) or every read
/// (SOCK_STREAM) is one record, `length[u32] count[u32]`, `count` files
/// `flags[u32] offset[u64] path_length[u16] path`, then `length` bytes of data; in the
/// project's wire encoding (QtfsProtocol's WireWriter and WireReader).
enum FileRecord {
    static let maxFiles = 253        // SCM_MAX_FD
    static let maxPath = 4095

    static func encode(_ data: UnsafeRawBufferPointer, _ files: [PassedFile], into out: inout [UInt8]) {
        var w = WireWriter(capacity: 8 + files.reduce(0) { $0 + 14 + $1.path.count } + data.count)
        w.u32(UInt32(data.count))
        w.u32(UInt32(files.count))
        for f in files {
            w.u32(f.flags)
            w.u64(f.offset)
            w.bytes16(Array(f.path.prefix(maxPath)))
        }
        w.raw(data)
        out += w.bytes
    }

    enum Parsed { case record(data: [UInt8], files: [PassedFile], size: Int), incomplete, bad }

    /// The record at the start of `b[at...]`: incomplete while bytes are missing, bad when
    /// a field is out of range.
    static func decode(_ b: [UInt8], at start: Int, maxData: Int) -> Parsed {
        b.withUnsafeBytes { all in
            var r = WireReader(UnsafeRawBufferPointer(rebasing: all[start...]))
            do {
                let length = Int(try r.u32("length")), count = Int(try r.u32("count"))
                guard length <= maxData, count <= maxFiles else { return .bad }
                var files: [PassedFile] = []
                for _ in 0..<count {
                    let flags = try r.u32("flags"), offset = try r.u64("offset")
                    let path = try r.bytes16("path", limit: maxPath)
                    guard path.isEmpty || path.first == UInt8(ascii: "/") else { return .bad }   // empty: a pipe
                    files.append(PassedFile(flags: flags, offset: offset, path: path))
                }
                let data = try r.fixed(length, "data")
                return .record(data: data, files: files, size: r.offset)
            } catch WireError.truncated {
                return .incomplete
            } catch {
                return .bad
            }
        }
    }

    /// The u32 length of a SOCK_SEQPACKET frame at `b[at...]` (4 bytes must be there).
    static func frameLength(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24
    }
}

/// recvmsg/sendmsg with SCM_RIGHTS (struct cmsghdr on 64-bit Linux: size_t len, int level,
/// int type, then the data; each control message aligned to 8 bytes).
enum Rights {
    static let controlSize = 16 + 4 * FileRecord.maxFiles + 8
    static let scmRights: Int32 = 1
    static let cmsgCloexec: Int32 = 0x4000_0000    // MSG_CMSG_CLOEXEC
    static let ctrunc: Int32 = 0x8                 // MSG_CTRUNC

    /// Reads into `p`; the descriptors that came with the bytes go to `fds` (close-on-exec).
    /// `truncated`: the kernel dropped some (more than fit).
    static func receive(_ sock: Int32, _ p: UnsafeMutableRawPointer, _ n: Int, fds: inout [Int32], truncated: inout Bool) -> Int {
        var ctl = [UInt8](repeating: 0, count: controlSize)
        var got: [Int32] = []
        let r = ctl.withUnsafeMutableBytes { c -> Int in
            var iov = iovec(iov_base: p, iov_len: n)
            return withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr()
                msg.msg_iov = iovp; msg.msg_iovlen = 1
                msg.msg_control = c.baseAddress; msg.msg_controllen = c.count
                let r = recvmsg(sock, &msg, cmsgCloexec)
                if r >= 0 {
                    got = parse(UnsafeRawBufferPointer(start: c.baseAddress, count: Int(msg.msg_controllen)))
                    truncated = msg.msg_flags & ctrunc != 0
                }
                return r
            }
        }
        fds = got
        return r
    }

    /// Every descriptor in SCM_RIGHTS control messages.
    static func parse(_ ctl: UnsafeRawBufferPointer) -> [Int32] {
        var at = 0, fds: [Int32] = []
        while at + 16 <= ctl.count {
            let len = Int(ctl.loadUnaligned(fromByteOffset: at, as: UInt.self))
            let level = ctl.loadUnaligned(fromByteOffset: at + 8, as: Int32.self)
            let type = ctl.loadUnaligned(fromByteOffset: at + 12, as: Int32.self)
            guard len >= 16, at + len <= ctl.count else { break }
            if level == SOL_SOCKET && type == scmRights {
                for i in 0..<((len - 16) / 4) { fds.append(ctl.loadUnaligned(fromByteOffset: at + 16 + 4 * i, as: Int32.self)) }
            }
            at += (len + 7) & ~7
        }
        return fds
    }

    /// sendmsg of `data` with `fds` attached (none: a plain send).
    static func send(_ sock: Int32, _ data: UnsafeRawBufferPointer, _ fds: [Int32]) -> Int {
        let len = 16 + 4 * fds.count
        var ctl = [UInt8](repeating: 0, count: fds.isEmpty ? 0 : (len + 7) & ~7)
        if !fds.isEmpty {
            ctl.withUnsafeMutableBytes { c in
                c.storeBytes(of: UInt(len), toByteOffset: 0, as: UInt.self)
                c.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
                c.storeBytes(of: scmRights, toByteOffset: 12, as: Int32.self)
                for (i, fd) in fds.enumerated() { c.storeBytes(of: fd, toByteOffset: 16 + 4 * i, as: Int32.self) }
            }
        }
        return ctl.withUnsafeMutableBytes { c in
            var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: data.baseAddress), iov_len: data.count)
            return withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr()
                msg.msg_iov = iovp; msg.msg_iovlen = 1
                msg.msg_control = fds.isEmpty ? nil : c.baseAddress; msg.msg_controllen = fds.isEmpty ? 0 : c.count
                return sendmsg(sock, &msg, Int32(MSG_NOSIGNAL))
            }
        }
    }
}

/// What both sides say about a passed descriptor.
public enum FileKind {
    /// "a pipe", "a socket"...: what a descriptor that cannot be passed is.
    public static func name(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a pipe or fifo"
        case S_IFSOCK: return "a socket"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "an anonymous file (eventfd, memfd...)"
        }
    }

    /// Where `fd` is open, as this process sees it ("" when unknown).
    public static func path(of fd: Int32) -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }

    /// The sender's open flags, minus those that would change the file (O_CREAT, O_TRUNC,
    /// O_EXCL) or this process (O_NOCTTY is added by the caller).
    public static func reopenFlags(_ flags: UInt32) -> Int32 {
        Int32(bitPattern: flags) & ~(O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC)
    }
}

/// Who is at the other end of a unix socket (SO_PEERCRED and SO_PEERGROUPS, as of its
/// connect or listen): passed files are reopened with these rights, never more.
public struct PeerIdentity: Sendable {
    public var uid: UInt32, gid: UInt32, pid: Int32, groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, pid: Int32 = 0, groups: [UInt32] = []) {
        self.uid = uid; self.gid = gid; self.pid = pid; self.groups = groups
    }

    /// Nobody (65534) when the kernel does not say.
    public init(of fd: Int32) {
        var cred: [UInt32] = [0, 0, 0], len = socklen_t(12)   // struct ucred: pid, uid, gid
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else {
            uid = 65534; gid = 65534; pid = 0; groups = []; return
        }
        pid = Int32(bitPattern: cred[0]); uid = cred[1]; gid = cred[2]
        var list = [UInt32](repeating: 0, count: 64)
        var size = socklen_t(list.count * 4)
        let soPeerGroups: Int32 = 59
        groups = getsockopt(fd, SOL_SOCKET, soPeerGroups, &list, &size) == 0 ? Array(list.prefix(Int(size) / 4)) : []
    }
}
