// qtfs-rexec: run a host program from the DPU (docs/rexec.md). Exit status: the
// program's; for a program killed by a signal, qtfs-rexec dies of the same signal (a
// shell shows 128+N); 126 not permitted or not executable, 127 not found, 255 when
// qtfs-rexec itself failed (connection, protocol).
import CQtfsSys
import Glibc
import QtfsAuth
import QtfsClient
import QtfsProtocol

func fail(_ status: Int32, _ message: String) -> Never {
    qtfs_term_restore()
    Sys.printError("qtfs-rexec: \(message)")
    exit(status)
}

func writePidFile(_ path: String, _ pid: UInt32) {
    let text = "\(pid)\n"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0, text.withCString({ write(fd, $0, strlen($0)) }) == text.utf8.count else {
        fail(255, "cannot write the pid file \(path): \(Errno.current().text)")
    }
    close(fd)
}

func exitAs(_ exit: RexecExit) -> Never {
    qtfs_term_restore()
    if exit.signaled {
        qtfs_die_of(Int32(exit.code))
        Glibc.exit(128 + Int32(exit.code))
    }
    Glibc.exit(Int32(exit.code))
}

let invokedAs = String(CommandLine.arguments[0].split(separator: "/").last ?? "")
let options: RexecOptions
do {
    options = try RexecOptions.parse(Array(CommandLine.arguments.dropFirst()), upstreamForm: invokedAs == "rexec",
                                     environment: ServerOptions.processEnvironment())
} catch let e as RexecOptions.UsageError {
    let help = CommandLine.arguments.contains("-h") || CommandLine.arguments.contains("--help")
    if help { print(e.message); exit(0) }
    fail(2, e.message)
}

signal(SIGPIPE, SIG_IGN)
let signals = RexecRun.forwarded.withUnsafeBufferPointer { qtfs_signalfd($0.baseAddress, Int32($0.count)) }
guard signals >= 0 else { fail(255, "cannot set up signal forwarding: \(Errno.current().text)") }

do {
    let request = try RexecRequestBuilder.build(options)
    let run = try RexecRun(options, signals: signals)
    let reply = try run.start(request)
    switch reply.result {
    case .started: break
    case .notFound: fail(127, reply.message)
    case .notAllowed, .cannotRun: fail(126, reply.message)
    }
    if let pidFile = options.pidFile { writePidFile(pidFile, reply.hostPid) }
    let pty = options.pty && isatty(0) == 1
    if pty && qtfs_term_raw(0) != 0 { fail(255, "cannot put the terminal in raw mode: \(Errno.current().text)") }
    switch run.run(pty: pty) {
    case .exited(let status):
        if let pidFile = options.pidFile { unlink(pidFile) }
        exitAs(status)
    case .failed(let status, let message):
        if let pidFile = options.pidFile { unlink(pidFile) }
        fail(status, message)
    }
} catch let e as RexecFailure {
    fail(e.status, e.description)
} catch let e as ConnectError {
    fail(255, e.description)
} catch let e as SealError {
    fail(255, RexecRun.tampered(options.server, e))
} catch {
    fail(255, "\(error)")
}
