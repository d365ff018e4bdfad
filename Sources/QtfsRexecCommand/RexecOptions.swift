// qtfs-rexec's command line, and upstream's `rexec PROGRAM ARGS...` form (no options:
// everything after the name is the program and its arguments; the server comes from
// CMD_NET_ADDR=tcp://HOST:PORT as upstream reads it).
import Glibc
import QtfsClient
import QtfsProtocol

struct RexecOptions {
    var server = ServerAddress(host: "127.0.0.1", port: 12345)
    var keyFile: String?
    var pty = false
    var noStdin = false
    var clearEnv = false
    var setEnv: [String] = []      // NAME=VALUE
    var unsetEnv: [String] = []
    var pidFile: String?
    var passFiles = true
    var argv: [String] = []

    static let defaultKey = "/etc/qtfs/qtfs.key"

    static let usage = """
    usage: qtfs-rexec [options] [--] PROGRAM [ARGS...]
           rexec PROGRAM [ARGS...]          (upstream's form; options from the environment)
    Runs PROGRAM on the host with this process's stdio, environment, working directory,
    umask, user and groups; exits with its status (docs/rexec.md).
      -s, --server HOST[:PORT]   the host's qtfs-server (default: $CMD_NET_ADDR as
                                 tcp://HOST:PORT, else 127.0.0.1:12345)
      -k, --key FILE             key file (default: \(defaultKey) when it exists)
      -o server=...,key=...      the same, as mount options are written
      -t                         run on a pseudo-terminal on the host (interactive use)
      -n                         no stdin (the program reads end of file at once)
      -i, --clear-env            start from an empty environment
      -e NAME=VALUE              set a variable (repeatable)
      -u NAME                    remove a variable (repeatable)
      --pidfile FILE             write the host pid there while the program runs
      --no-files                 do not pass open files above fd 2
      -h, --help                 this text
    """

    struct UsageError: Error { let message: String }

    /// Parses `args` (without argv[0]); `upstreamForm` takes them all as the program.
    static func parse(_ args: [String], upstreamForm: Bool, environment: [String: String]) throws -> RexecOptions {
        var o = RexecOptions()
        if let addr = environment["CMD_NET_ADDR"] { o.server = try parseNetAddr(addr) }
        if access(defaultKey, F_OK) == 0 { o.keyFile = defaultKey }
        if upstreamForm { o.argv = args } else { try o.parseOptions(args) }
        guard !o.argv.isEmpty else { throw UsageError(message: "no program given\n\(usage)") }
        return o
    }

    static func parseNetAddr(_ s: String) throws -> ServerAddress {
        let text = s.hasPrefix("tcp://") ? String(s.dropFirst(6)) : s
        guard let a = ServerAddress.parse(text) else {
            throw UsageError(message: "CMD_NET_ADDR=\(s) is not tcp://HOST:PORT")
        }
        return a
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
            case "-s", "--server": server = try Self.address(try value(a))
            case "-k", "--key": keyFile = try value(a)
            case "-o": try applyMountOptions(try value(a))
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

    private mutating func applyMountOptions(_ s: String) throws {
        for item in s.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            switch (kv[0], kv.count == 2 ? kv[1] : nil) {
            case ("server", let v?): server = try Self.address(v)
            case ("key", let v?): keyFile = v
            default: throw UsageError(message: "-o \(item): qtfs-rexec takes server=HOST[:PORT] and key=FILE")
            }
        }
    }

    private static func address(_ s: String) throws -> ServerAddress {
        guard let a = ServerAddress.parse(s) else { throw UsageError(message: "\(s) is not HOST[:PORT]") }
        return a
    }
}
