// Messages of remote exec (docs/protocol.md, "Remote exec"): REXEC_START and its answer,
// then events in both directions carrying the program's streams, signals, window size,
// flow-control credit and its exit.

public enum Rexec {
    /// Bytes one side may send on a stream before the receiver gives credit back.
    public static let window = 4 << 20
    /// Largest data in one REXEC_DATA event.
    public static let maxChunk = 256 << 10
    /// argv and environment strings together (the host's execve limit is higher; the
    /// payload limit keeps START in one frame).
    public static let maxArgBytes = 1 << 20
    public static let maxStrings = 65_536
    public static let stdin: UInt8 = 0, stdout: UInt8 = 1, stderr: UInt8 = 2
}

/// REXEC_START: run `argv` on the host as `caller`. `program` is argv[0] resolved by the
/// host (an absolute path, or a name searched in the host's standard PATH).
public struct RexecStartRequest: WirePayload, Equatable {
    public static let flagPty: UInt32 = 1

    public var caller: Caller
    public var flags: UInt32
    public var umask: UInt32
    public var rows: UInt16, cols: UInt16
    public var cwd: [UInt8]
    public var argv: [[UInt8]]
    public var env: [[UInt8]]
    public var files: [RexecFile]

    public init(caller: Caller, flags: UInt32 = 0, umask: UInt32 = 0o022, rows: UInt16 = 0, cols: UInt16 = 0,
                cwd: [UInt8], argv: [[UInt8]], env: [[UInt8]], files: [RexecFile] = []) {
        self.caller = caller; self.flags = flags; self.umask = umask; self.rows = rows; self.cols = cols
        self.cwd = cwd; self.argv = argv; self.env = env; self.files = files
    }

    public var pty: Bool { flags & Self.flagPty != 0 }

    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w)
        w.u32(flags, "flags (1 = pseudo-terminal)"); w.u32(umask, "umask")
        w.u16(rows, "terminal rows"); w.u16(cols, "terminal columns")
        w.bytes16(cwd, "working directory")
        Self.encodeStrings(argv, "argv", into: &w)
        Self.encodeStrings(env, "environment", into: &w)
        w.u16(UInt16(files.count), "passed files")
        for f in files { f.encode(into: &w) }
    }

    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r)
        flags = try r.u32("flags"); umask = try r.u32("umask")
        guard flags & ~Self.flagPty == 0 else { throw WireError.invalid(field: "flags") }
        guard umask <= 0o777 else { throw WireError.invalid(field: "umask") }
        rows = try r.u16("rows"); cols = try r.u16("cols")
        cwd = try r.bytes16("path", limit: Wire.maxPath)
        var budget = Rexec.maxArgBytes
        argv = try Self.decodeStrings(&r, "argv", budget: &budget)
        env = try Self.decodeStrings(&r, "environment", budget: &budget)
        guard !argv.isEmpty, !argv[0].isEmpty else { throw WireError.invalid(field: "argv") }
        guard cwd.first == UInt8(ascii: "/"), !cwd.contains(0) else { throw WireError.invalid(field: "cwd") }
        let n = Int(try r.u16("files"))
        files = try (0..<n).map { _ in try RexecFile(from: &r) }
    }

    static func encodeStrings(_ list: [[UInt8]], _ what: String, into w: inout WireWriter) {
        w.u32(UInt32(list.count), "\(what) count")
        for s in list { w.blob(s, what) }
    }

    /// Strings without NUL bytes, all of them together within `budget` bytes.
    static func decodeStrings(_ r: inout WireReader, _ what: String, budget: inout Int) throws -> [[UInt8]] {
        let n = Int(try r.u32(what))
        guard n <= Rexec.maxStrings else { throw WireError.tooLong(field: what, length: n, limit: Rexec.maxStrings) }
        var out: [[UInt8]] = []
        for _ in 0..<n {
            let s = try r.blob(what, limit: budget)
            guard !s.contains(0) else { throw WireError.invalid(field: what) }
            budget -= s.count + 1
            out.append(s)
        }
        return out
    }
}

/// A regular file the caller has open at `fd` (> 2), reopened on the host at the same
/// number with `flags` and `offset`; `path` is absolute on the host.
public struct RexecFile: Equatable, Sendable {
    public var fd: UInt32, flags: UInt32, offset: UInt64
    public var path: [UInt8]
    public init(fd: UInt32, flags: UInt32, offset: UInt64, path: [UInt8]) {
        self.fd = fd; self.flags = flags; self.offset = offset; self.path = path
    }
    func encode(into w: inout WireWriter) {
        w.u32(fd, "fd"); w.u32(flags, "open flags"); w.u64(offset, "offset"); w.bytes16(path, "host path")
    }
    init(from r: inout WireReader) throws {
        fd = try r.u32("file.fd"); flags = try r.u32("file.flags"); offset = try r.u64("file.offset")
        path = try r.bytes16("path", limit: Wire.maxPath)
        guard fd > 2, fd < 1 << 20, path.first == UInt8(ascii: "/"), !path.contains(0) else {
            throw WireError.invalid(field: "file")
        }
    }
}

/// The answer to REXEC_START (status 0). `result` says whether the program runs; when it
/// does not, `errno` and `message` say why, for the person who ran it.
public struct RexecStartReply: WirePayload, Equatable, Error {
    public enum Result: UInt8, Sendable {
        case started = 0
        case notFound = 1      // no such program on the host (exit status 127)
        case notAllowed = 2    // not in the whitelist, or remote exec is off (126)
        case cannotRun = 3     // exec or setup failed: permission, cwd, format (126)
    }
    public var result: Result
    public var errno: UInt32
    public var hostPid: UInt32
    public var message: String
    public init(result: Result, errno: UInt32 = 0, hostPid: UInt32 = 0, message: String = "") {
        self.result = result; self.errno = errno; self.hostPid = hostPid; self.message = message
    }
    public func encode(into w: inout WireWriter) {
        w.u8(result.rawValue, "result (0 started, 1 not found, 2 not allowed, 3 cannot run)")
        w.u32(errno, "errno"); w.u32(hostPid, "host pid"); w.string(message, "message")
    }
    public init(from r: inout WireReader) throws {
        guard let res = Result(rawValue: try r.u8("result")) else { throw WireError.invalid(field: "result") }
        result = res
        errno = try r.u32("errno"); hostPid = try r.u32("hostPid")
        message = try r.string("message", limit: 4096)
    }
}

/// REXEC_DATA: bytes of one stream; no bytes means the stream ended (EOF).
public struct RexecData: WirePayload, Equatable {
    public var stream: UInt8
    public var data: [UInt8]
    public init(stream: UInt8, data: [UInt8]) { self.stream = stream; self.data = data }
    public func encode(into w: inout WireWriter) {
        w.u8(stream, "stream (0 stdin, 1 stdout, 2 stderr)"); w.raw(data, "data (none = end of stream)")
    }
    public init(from r: inout WireReader) throws {
        stream = try r.u8("stream")
        guard stream <= Rexec.stderr else { throw WireError.invalid(field: "stream") }
        data = Array(r.rest())
        guard data.count <= Rexec.maxChunk else { throw WireError.tooLong(field: "data", length: data.count, limit: Rexec.maxChunk) }
    }
}

/// REXEC_CREDIT: the receiver of `stream` consumed `bytes`; the sender may send as many more.
public struct RexecCredit: WirePayload, Equatable {
    public var stream: UInt8
    public var bytes: UInt32
    public init(stream: UInt8, bytes: UInt32) { self.stream = stream; self.bytes = bytes }
    public func encode(into w: inout WireWriter) { w.u8(stream, "stream"); w.u32(bytes, "bytes consumed") }
    public init(from r: inout WireReader) throws {
        stream = try r.u8("stream"); bytes = try r.u32("bytes")
        guard stream <= Rexec.stderr, bytes <= UInt32(Rexec.window) else { throw WireError.invalid(field: "credit") }
    }
}

/// REXEC_SIGNAL: deliver `signal` (Linux numbering) to the program.
public struct RexecSignal: WirePayload, Equatable {
    public var signal: UInt32
    public init(signal: UInt32) { self.signal = signal }
    public func encode(into w: inout WireWriter) { w.u32(signal, "signal number") }
    public init(from r: inout WireReader) throws { signal = try r.u32("signal") }
}

/// REXEC_WINSIZE: the terminal's size, for a program on a pseudo-terminal.
public struct RexecWinsize: WirePayload, Equatable {
    public var rows: UInt16, cols: UInt16
    public init(rows: UInt16, cols: UInt16) { self.rows = rows; self.cols = cols }
    public func encode(into w: inout WireWriter) { w.u16(rows, "rows"); w.u16(cols, "columns") }
    public init(from r: inout WireReader) throws { rows = try r.u16("rows"); cols = try r.u16("cols") }
}

/// REXEC_EXIT: the program exited with `code`, or was killed by signal `code`.
public struct RexecExit: WirePayload, Equatable {
    public var signaled: Bool
    public var code: UInt32
    public var coreDumped: Bool
    public init(signaled: Bool, code: UInt32, coreDumped: Bool = false) {
        self.signaled = signaled; self.code = code; self.coreDumped = coreDumped
    }
    public func encode(into w: inout WireWriter) {
        w.u8(signaled ? 1 : 0, "1 = killed by a signal"); w.u32(code, "exit code or signal"); w.u8(coreDumped ? 1 : 0, "core dumped")
    }
    public init(from r: inout WireReader) throws {
        let s = try r.u8("signaled"), c = try r.u32("code"), d = try r.u8("core")
        guard s <= 1, d <= 1, c <= 255 else { throw WireError.invalid(field: "exit") }
        signaled = s == 1; code = c; coreDumped = d == 1
    }
}
