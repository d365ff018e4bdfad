// qtfs-rexec's command line, and upstream's `rexec PROGRAM ARGS...` form (no options:
// everything after the name is the program and its arguments; the server comes from
// CMD_NET_ADDR=tcp://HOST:PORT as upstream reads it).
import Glibc
import QtfsClient
import QtfsProtocol

struct RexecOptions {
    var connection: ServerOptions
    var server: ServerAddress { connection.server }
    var keyFile: String? { connection.keyFile }
    /// Sealed frames or not, as `parse` checked it against the key.
    var crypt: ClientCrypt = .none
    var pty = false
    var noStdin = false
    var clearEnv = false
    var setEnv: [String] = []      // NAME=VALUE
    var unsetEnv: [String] = []
    var pidFile: String?
    var passFiles = true
    var argv: [String] = []

    static let usage = """
    usage: qtfs-rexec [options] [--] PROGRAM [ARGS...]
           rexec PROGRAM [ARGS...]          (upstream's form; options from the environment)
    Runs PROGRAM on the host with this process's stdio, environment, working directory,
    umask, user and groups; exits with its status (docs/rexec.md).
    \(ServerOptions.help)
      -t                         run on a pseudo-terminal on the host (interactive use)
      -n                         no stdin (the program reads end of file at once)
      -i, --clear-env            start from an empty environment
      -e NAME=VALUE              set a variable (repeatable)
      -u NAME                    remove a variable (repeatable)
      --pidfile FILE             write the host pid there while the program runs
      --no-files                 do not pass open files above fd 2
      -h, --help                 this text
    """

    typealias UsageError = ServerOptions.UsageError

    /// Parses `args` (without argv[0]); `upstreamForm` takes them all as the program.
    static func parse(_ args: [String], upstreamForm: Bool, environment: [String: String]) throws -> RexecOptions {
        var o = RexecOptions(connection: try ServerOptions(environment: environment))
        if upstreamForm { o.argv = args } else { try o.parseOptions(args) }
        guard !o.argv.isEmpty else { throw UsageError(message: "no program given\n\(usage)") }
        o.crypt = try o.connection.cryptMode(hasKey: o.keyFile != nil)
        return o
    }

    private mutating func parseOptions(_ args: [String]) throws {
        var i = 0
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < args.count else { throw UsageError(message: "\(flag) needs a value\n\(Self.usage)") }
            return args[i]
        }
        while i < args.count {
            let a = args[i]
            switch a {
            case "--": argv = Array(args[(i + 1)...]); return
            case _ where try connection.apply(a, { try value(a) }): break
            case "-t": pty = true
            case "-n": noStdin = true
            case "-i", "--clear-env": clearEnv = true
            case "-e": setEnv.append(try value(a))
            case "-u": unsetEnv.append(try value(a))
            case "--pidfile": pidFile = try value(a)
            case "--no-files": passFiles = false
            case "-h", "--help": throw UsageError(message: Self.usage)
            default:
                if a.hasPrefix("-") && a != "-" { throw UsageError(message: "unknown option \(a)\n\(Self.usage)") }
                argv = Array(args[i...]); return
            }
            i += 1
        }
    }

}
