// Where qtfs-fuse's log lines go, decided once for the process. The libraries only log
// through swift-log: QtfsClient's connection events (lost, reconnected, a socket bridge
// failing) and the FUSE operations' request lines (FuseLog, level set by qtinfo -l).
import Glibc
import Logging
import QtfsControl
import QtfsFuseOps

enum FuseLogging {
    private static let clientLabel = "qtfs-fuse.client"

    /// Call first thing: loggers made before it keep swift-log's default handler.
    static func bootstrap() {
        let level = FuseLog.level
        LoggingSystem.bootstrap { label in
            label == clientLabel ? ConnectionEventHandler() as LogHandler : ControlledLogHandler(label: label, handle: level)
        }
    }

    /// For QtfsClient (Session, socket bridges) and the mount's own events: mounted, or
    /// why not. (Command-line usage and --help answers are printed by main.swift.)
    static let client = Logger(label: clientLabel)
}

/// Connection and mount events: one "qtfs-fuse: ..." line on stderr and in syslog (a
/// daemonized qtfs-fuse has no stderr), as the kernel logs NFS "server not responding" /
/// "OK". Always shown, whatever the level qtinfo sets for request lines.
struct ConnectionEventHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "qtfs-fuse: \(event.message)"
        _ = (line + "\n").withCString { fputs($0, stderr) }
        let escaped = String(line.flatMap { $0 == "%" ? ["%", "%"] : [$0] })
        withVaList([]) { args in escaped.withCString { vsyslog(LOG_WARNING | LOG_DAEMON, $0, args) } }
    }
}
