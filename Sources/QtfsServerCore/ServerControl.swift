// The server as its control endpoint (qtinfo) sees it.
import QtfsControl

extension QtfsServer {
    /// Names of the operations in `opStats` (by wire opcode).
    public static var opNames: [String?] { Engine.opNames }

    public func controlTarget(logLevel: LogLevelHandle, whitelist: (any WhitelistControl)? = nil) -> ControlTarget {
        let listen = "\(config.listen):\(port)", exports = config.exports.map(\.path), registry = connections
        return ControlTarget(role: "server", version: QtfsVersion.text, stats: opStats, connections: { registry.reports },
                             logLevel: logLevel, whitelist: whitelist) { r in
            r.listen = listen
            r.exports = exports
            r.remotePrograms = RexecRegistry.running.map {
                RemoteProgramReport(peer: $0.peer, dpuPid: $0.dpuPid, hostPid: $0.hostPid, program: $0.program, uid: $0.uid,
                                    startedAt: $0.started, bytesIn: $0.bytesIn.current, bytesOut: $0.bytesOut.current)
            }
        }
    }
}
