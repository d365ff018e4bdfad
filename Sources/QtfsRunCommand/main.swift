// qtfs-run: runs a command and its process tree with their mounts and unix sockets under
// qtfs mounts done on the host (docs/offload.md). Exit status: the command's (a command
// killed by a signal: qtfs-run dies of the same signal); 127 not found, 126 not
// executable, 255 when qtfs-run itself failed.
import CQtfsSys
import Glibc
import QtfsAuth
import QtfsClient
import QtfsSystem

func fail(_ status: Int32, _ message: String) -> Never {
    Log.error(message)
    exit(status)
}

/// The command's pid, for the signal forwarder.
nonisolated(unsafe) var commandPid: pid_t = 0

/// TERM, INT, HUP and QUIT sent to qtfs-run go to the command (a service manager stops
/// the daemon by signalling qtfs-run).
func forwardSignals() {
    for sig in [SIGTERM, SIGINT, SIGHUP, SIGQUIT] {
        signal(sig) { s in if commandPid > 0 { kill(commandPid, s) } }
    }
}

/// Starts the command under the filter; exits with 126/127 when it cannot run.
func startCommand(_ argv: [String]) -> (pid: pid_t, listener: Int32) {
    var cArgs = argv.map { strdup($0) } + [nil]
    var listener: Int32 = -1, execErrno: Int32 = 0
    let pid = qtfs_run_spawn(&cArgs, &listener, &execErrno)
    guard pid > 0 else { fail(255, "cannot start \(argv[0]): \(Errno.current().text)") }
    if execErrno != 0 {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let why = execErrno == EPROTO ? "cannot install the seccomp filter" : String(cString: strerror(execErrno))
        fail(execErrno == ENOENT ? 127 : 126, "cannot run \(argv[0]): \(why)")
    }
    return (pid, listener)
}

func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    _ = try? sys("waitpid") { waitpid(pid, &status, 0) }
    return status
}

#if !arch(x86_64)
fail(255, "the seccomp filter knows x86_64 system call numbers only; on this architecture nothing would be intercepted")
#endif
let options: RunOptions
do {
    options = try RunOptions.parse(Array(CommandLine.arguments.dropFirst()),
                                   environment: ServerOptions.processEnvironment())
} catch let e as RunOptions.UsageError {
    if CommandLine.arguments.contains("-h") || CommandLine.arguments.contains("--help") { print(e.message); exit(0) }
    fail(2, e.message)
}
Log.verbose = options.verbose
signal(SIGPIPE, SIG_IGN)
do {
    ClientAuth.processKey = try options.connection.keyFile.map { try AuthKey.load(path: $0) }
    ClientAuth.processCrypt = options.crypt   // host requests and socket relays: sealed or not
} catch { fail(255, "\(error)") }
let rendezvous: Rendezvous
do { rendezvous = try Rendezvous() } catch { fail(255, "\(error)") }

let (pid, listener) = startCommand(options.argv)
commandPid = pid
forwardSignals()
let supervisor = Supervisor(listener: listener, server: options.connection.server, rendezvous: rendezvous)
let serving: pthread_t
do { serving = try Threads.start(detached: false) { supervisor.run() } } catch {
    kill(pid, SIGKILL)
    fail(255, "cannot start the supervisor thread: \(error)")
}
let status = waitForExit(pid)
commandPid = 0                 // reaped: its pid may be reused; signals are no longer forwarded
pthread_join(serving, nil)     // until every process under the filter has ended
rendezvous.close()
if status & 0x7f != 0 {
    qtfs_die_of(status & 0x7f)
    exit(128 + (status & 0x7f))
}
exit((status >> 8) & 0xff)
