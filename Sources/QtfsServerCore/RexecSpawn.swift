// Starting the program of a REXEC_START: its stdio (three pipes, or a pseudo-terminal),
// then clone and exec in C (CQtfsSys/spawn.c) as the caller. The answer says whether exec
// succeeded, read from the child's report pipe.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

/// A started program: its pid, a pidfd that polls readable at exit, and our ends of its stdio.
struct RexecChild {
    let pid: pid_t
    let pidfd: Int32
    /// Our end of its stdin; with a pty, the master (also `stdout`).
    let stdin: Int32
    let stdout: Int32
    /// nil with a pty (stderr goes to the terminal like stdout).
    let stderr: Int32?
}

enum RexecSpawn {
    static func start(_ req: RexecStartRequest, program: String, squashRoot: Bool) -> Result<RexecChild, RexecStartReply> {
        let ours: [Int32], theirs: [Int32]
        do { (ours, theirs) = try req.pty ? ptyPair(req) : pipePairs() } catch {
            return .failure(cannotRun(error as? Errno, "cannot create the program's stdio on the host"))
        }
        defer { theirs.forEach { close($0) } }
        var caller = req.caller
        if squashRoot && caller.uid == 0 { caller = Caller(uid: 65534, gid: 65534, groups: []) }
        var report: Int32 = -1
        let pid = withSpawnArgs(req, program: program, caller: caller, stdio: theirs) { qtfs_spawn($0, &report) }
        guard pid > 0 else {
            ours.forEach { close($0) }
            return .failure(cannotRun(.current(call: "fork"), "cannot start a process on the host"))
        }
        if let failure = childFailure(report, req) {
            ours.forEach { close($0) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return .failure(failure)
        }
        let pidfd = qtfs_pidfd_open(pid)
        guard pidfd >= 0 else {
            kill(pid, SIGKILL)
            ours.forEach { close($0) }
            return .failure(cannotRun(.current(call: "pidfd_open"), "cannot watch the started process"))
        }
        return .success(RexecChild(pid: pid, pidfd: pidfd, stdin: ours[0], stdout: ours[1],
                                   stderr: req.pty ? nil : ours[2]))
    }

    /// Reads the report pipe: EOF means exec succeeded.
    private static func childFailure(_ fd: Int32, _ req: RexecStartRequest) -> RexecStartReply? {
        defer { close(fd) }
        var msg: (Int32, Int32) = (0, 0)
        let n = withUnsafeMutableBytes(of: &msg) { buf in
            var got = 0
            while got < buf.count {
                let r = (try? sys("read") { read(fd, buf.baseAddress! + got, buf.count - got) }) ?? -1
                if r <= 0 { break }
                got += r
            }
            return got
        }
        guard n == 8 else { return nil }
        let err = Errno(msg.1)
        let program = String(decoding: req.argv[0], as: UTF8.self)
        switch Int(msg.0) {
        case Int(QTFS_SPAWN_CWD.rawValue):
            return cannotRun(err, "cannot change to the working directory \(String(decoding: req.cwd, as: UTF8.self)) on the host")
        case Int(QTFS_SPAWN_CREDENTIALS.rawValue):
            return cannotRun(err, "cannot take the caller's user and groups (uid \(req.caller.uid)) on the host")
        case Int(QTFS_SPAWN_FILE.rawValue):
            return cannotRun(err, "cannot reopen a passed file on the host")
        case Int(QTFS_SPAWN_EXEC.rawValue) where err.code == ENOENT:
            return RexecStartReply(result: .notFound, errno: UInt32(ENOENT), message: "\(program): cannot execute on the host: \(err.text) (a missing interpreter?)")
        case Int(QTFS_SPAWN_EXEC.rawValue):
            return cannotRun(err, "\(program): cannot execute on the host")
        default:
            return cannotRun(err, "cannot set up the process on the host")
        }
    }

    static func cannotRun(_ e: Errno?, _ what: String) -> RexecStartReply {
        let code = e?.code ?? EIO
        return RexecStartReply(result: .cannotRun, errno: UInt32(code), message: "\(what): \(Errno(code).text)")
    }

    /// Three pipes: (our ends, the child's ends) for stdin, stdout, stderr.
    private static func pipePairs() throws -> ([Int32], [Int32]) {
        var ours: [Int32] = [], theirs: [Int32] = []
        for i in 0..<3 {
            var p: [Int32] = [0, 0], capacity: Int32 = 0
            // 1 MiB pipes: fewer wake-ups per byte of a busy stream (the system may give less).
            guard qtfs_pipe_sized(&p, 1 << 20, &capacity) == 0 else {
                let e = Errno.current(call: "pipe2")
                (ours + theirs).forEach { close($0) }
                throw e
            }
            let (mine, child) = i == 0 ? (p[1], p[0]) : (p[0], p[1])
            _ = fcntl(mine, F_SETFL, O_NONBLOCK)
            ours.append(mine); theirs.append(child)
        }
        return (ours, theirs)
    }

    /// A pseudo-terminal: the master serves as stdin and stdout, the slave as all three.
    private static func ptyPair(_ req: RexecStartRequest) throws -> ([Int32], [Int32]) {
        var master: Int32 = -1, slave: Int32 = -1
        try sys("openpty") { qtfs_openpty(&master, &slave, req.rows, req.cols) }
        let master2 = dup(master)
        return ([master, master2], [slave])
    }
}

extension RexecSpawn {
    /// Calls `body` with a `qtfs_spawn` whose strings live for the call.
    static func withSpawnArgs(_ req: RexecStartRequest, program: String, caller: Caller, stdio: [Int32],
                              _ body: (UnsafePointer<qtfs_spawn>) -> pid_t) -> pid_t {
        let argv = CStringArray(req.argv), env = CStringArray(req.env)
        let paths = CStringArray(req.files.map(\.path))
        defer { argv.free(); env.free(); paths.free() }
        let files = req.files.enumerated().map { i, f in
            qtfs_spawn_file(fd: Int32(f.fd), flags: Int32(bitPattern: f.flags), offset: Int64(bitPattern: f.offset),
                            path: paths.pointers[i])
        }
        let three = stdio.count == 1 ? [stdio[0], stdio[0], stdio[0]] : stdio
        let groups = caller.groups.map { gid_t($0) }
        return program.withCString { path in
            String(decoding: req.cwd, as: UTF8.self).withCString { cwd in
                groups.withUnsafeBufferPointer { g in
                    files.withUnsafeBufferPointer { f in
                        var s = qtfs_spawn()
                        s.path = path
                        s.argv = UnsafePointer(argv.pointers)
                        s.envp = UnsafePointer(env.pointers)
                        s.cwd = cwd
                        s.umask = mode_t(req.umask)
                        s.uid = caller.uid; s.gid = caller.gid
                        s.groups = g.baseAddress; s.ngroups = Int32(g.count)
                        s.stdio = (three[0], three[1], three[2])
                        s.pty = req.pty ? 1 : 0
                        s.files = f.baseAddress; s.nfiles = Int32(f.count)
                        return body(&s)
                    }
                }
            }
        }
    }
}

/// A NULL-terminated array of C strings copied from byte strings (which hold no NUL).
struct CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int
    init(_ strings: [[UInt8]]) {
        count = strings.count
        pointers = .allocate(capacity: count + 1)
        for (i, s) in strings.enumerated() {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: s.count + 1)
            s.withUnsafeBytes { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(p), byteCount: s.count) }
            p[s.count] = 0
            pointers[i] = p
        }
        pointers[count] = nil
    }
    func free() {
        for i in 0..<count { pointers[i]?.deallocate() }
        pointers.deallocate()
    }
}
