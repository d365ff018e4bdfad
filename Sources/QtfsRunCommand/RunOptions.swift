// qtfs-run's command line.
import QtfsClient

struct RunOptions {
    var connection: ServerOptions
    /// Sealed frames or not, as `parse` checked it against the key.
    var crypt: ClientCrypt = .none
    var verbose = false
    var argv: [String] = []

    static let usage = """
    usage: qtfs-run [options] [--] COMMAND [ARGS...]
    Runs COMMAND and every process it starts with their mount(2), umount2(2) and unix
    socket connect(2)/bind(2) under qtfs mounts done on the host (docs/offload.md).
    Returns once COMMAND and every process started under it have ended, with COMMAND's
    exit status.
    \(ServerOptions.help)
      -v, --verbose              a line on stderr for each call done on the host
      -h, --help                 this text
    """

    typealias UsageError = ServerOptions.UsageError

    static func parse(_ args: [String], environment: [String: String]) throws -> RunOptions {
        var o = RunOptions(connection: try ServerOptions(environment: environment))
        var i = 0
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < args.count else { throw UsageError(message: "\(flag) needs a value\n\(usage)") }
            return args[i]
        }
        while i < args.count, o.argv.isEmpty {
            let a = args[i]
            switch a {
            case "--": o.argv = Array(args[(i + 1)...])
            case _ where try o.connection.apply(a, { try value(a) }): break
            case "-v", "--verbose": o.verbose = true
            case "-h", "--help": throw UsageError(message: usage)
            default:
                if a.hasPrefix("-") { throw UsageError(message: "unknown option \(a)\n\(usage)") }
                o.argv = Array(args[i...])
            }
            i += 1
        }
        guard !o.argv.isEmpty else { throw UsageError(message: "no command given\n\(usage)") }
        o.crypt = try o.connection.cryptMode(hasKey: o.connection.keyFile != nil)
        return o
    }
}
