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

    public static var unfilled: RexecStartRequest { RexecStartRequest(caller: .unfilled, cwd: [], argv: [], env: []) }

    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c)
        try c.u32(&flags, "flags (1 = pseudo-terminal)"); try c.u32(&umask, "umask")
        try c.require(flags & ~Self.flagPty == 0, .invalid(field: "flags"))
        try c.require(umask <= 0o777, .invalid(field: "umask"))
        try c.u16(&rows, "terminal rows"); try c.u16(&cols, "terminal columns")
        try c.bytes16(&cwd, "working directory", .path)
        var budget = Rexec.maxArgBytes
        try Self.strings(&argv, "argv", budget: &budget, &c)
        try Self.strings(&env, "environment", budget: &budget, &c)
        try c.require(!argv.isEmpty && !argv[0].isEmpty, .invalid(field: "argv"))
        try c.require(cwd.first == UInt8(ascii: "/"), .invalid(field: "cwd"))
        var n = UInt16(files.count)
        try c.u16(&n, "passed files")
        try c.list(&files, count: Int(n), unfilled: .unfilled) { (c, f) throws(C.Failure) in try f.layout(&c) }
    }

    /// A u32 count, then strings without NUL bytes, all of them together within `budget` bytes.
    static func strings<C: WireCoder>(_ list: inout [[UInt8]], _ what: String, budget: inout Int,
                                      _ c: inout C) throws(C.Failure) {
        var n = UInt32(list.count)
        try c.u32(&n, "\(what) count")
        try c.require(n <= Rexec.maxStrings, .tooLong(field: what, length: Int(n), limit: Rexec.maxStrings))
        try c.list(&list, count: Int(n), unfilled: []) { (c, s) throws(C.Failure) in
            try c.blob(&s, what, limit: budget)
            try c.require(!s.contains(0), .invalid(field: what))
            budget -= s.count + 1
        }
    }
}

/// A regular file the caller has open at `fd` (> 2), reopened on the host at the same
/// number with `flags` and `offset`; `path` is absolute on the host.
public struct RexecFile: WireLayout, Equatable, Sendable {
    public var fd: UInt32, flags: UInt32, offset: UInt64
    public var path: [UInt8]
    public init(fd: UInt32, flags: UInt32, offset: UInt64, path: [UInt8]) {
        self.fd = fd; self.flags = flags; self.offset = offset; self.path = path
    }
    public static var unfilled: RexecFile { RexecFile(fd: 0, flags: 0, offset: 0, path: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u32(&fd, "fd"); try c.u32(&flags, "open flags"); try c.u64(&offset, "offset")
        try c.bytes16(&path, "host path", .path)
        try c.require(fd > 2 && fd < 1 << 20 && path.first == UInt8(ascii: "/"), .invalid(field: "file"))
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
    public static var unfilled: RexecStartReply { RexecStartReply(result: .started) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        var raw = result.rawValue
        try c.u8(&raw, "result (0 started, 1 not found, 2 not allowed, 3 cannot run)")
        try c.require(Result(rawValue: raw) != nil, .invalid(field: "result"))
        result = Result(rawValue: raw) ?? result
        try c.u32(&errno, "errno"); try c.u32(&hostPid, "host pid")
        try c.string(&message, "message", TextLimit(4096, field: "message"), quoted: false)
    }
}

/// REXEC_DATA: bytes of one stream; no bytes means the stream ended (EOF).
public struct RexecData: WirePayload, Equatable {
    public var stream: UInt8
    public var data: [UInt8]
    public init(stream: UInt8, data: [UInt8]) { self.stream = stream; self.data = data }
    public static var unfilled: RexecData { RexecData(stream: 0, data: []) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u8(&stream, "stream (0 stdin, 1 stdout, 2 stderr)")
        try c.require(stream <= Rexec.stderr, .invalid(field: "stream"))
        try c.rest(&data, "data (none = end of stream)")
        try c.require(data.count <= Rexec.maxChunk, .tooLong(field: "data", length: data.count, limit: Rexec.maxChunk))
    }
}

/// REXEC_CREDIT: the receiver of `stream` consumed `bytes`; the sender may send as many more.
public struct RexecCredit: WirePayload, Equatable {
    public var stream: UInt8
    public var bytes: UInt32
    public init(stream: UInt8, bytes: UInt32) { self.stream = stream; self.bytes = bytes }
    public static var unfilled: RexecCredit { RexecCredit(stream: 0, bytes: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u8(&stream, "stream"); try c.u32(&bytes, "bytes consumed")
        try c.require(stream <= Rexec.stderr && bytes <= UInt32(Rexec.window), .invalid(field: "credit"))
    }
}

/// REXEC_SIGNAL: deliver `signal` (Linux numbering) to the program.
public struct RexecSignal: WirePayload, Equatable {
    public var signal: UInt32
    public init(signal: UInt32) { self.signal = signal }
    public static var unfilled: RexecSignal { RexecSignal(signal: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.u32(&signal, "signal number") }
}

/// REXEC_WINSIZE: the terminal's size, for a program on a pseudo-terminal.
public struct RexecWinsize: WirePayload, Equatable {
    public var rows: UInt16, cols: UInt16
    public init(rows: UInt16, cols: UInt16) { self.rows = rows; self.cols = cols }
    public static var unfilled: RexecWinsize { RexecWinsize(rows: 0, cols: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u16(&rows, "rows"); try c.u16(&cols, "columns")
    }
}

/// REXEC_EXIT: the program exited with `code`, or was killed by signal `code`.
public struct RexecExit: WirePayload, Equatable {
    public var signaled: Bool
    public var code: UInt32
    public var coreDumped: Bool
    public init(signaled: Bool, code: UInt32, coreDumped: Bool = false) {
        self.signaled = signaled; self.code = code; self.coreDumped = coreDumped
    }
    public static var unfilled: RexecExit { RexecExit(signaled: false, code: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.bool8(&signaled, "1 = killed by a signal", field: "exit")
        try c.u32(&code, "exit code or signal")
        try c.bool8(&coreDumped, "core dumped", field: "exit")
        try c.require(code <= 255, .invalid(field: "exit"))
    }
}
