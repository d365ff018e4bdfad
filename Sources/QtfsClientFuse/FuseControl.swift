// This mount as qtinfo sees it: the control endpoint (started once mounted, in the
// process that serves the mount), its connections and the shared log level (FuseLog).
import Glibc
import Logging
import QtfsClient
import QtfsControl
import QtfsFuseOps

enum FuseControl {
    /// Starts the endpoint; nil (with a log line) if it cannot be created.
    static func start(_ o: Options, session: Session) -> ControlServer? {
        if o.verbose || o.debug { FuseLog.level.set(QtfsLogLevel.info) }
        let logger = FuseLog.logger
        let server = o.server.description, source = o.source, mountpoint = o.mountpoint
        let target = ControlTarget(role: "fuse", version: QtfsVersion.text, stats: FuseStats.registry,
                                   connections: { reports(session, server) }, logLevel: FuseLog.level) { r in
            r.server = server
            r.source = source
            r.mountpoint = mountpoint
            r.requestsInFlight = FuseStats.inFlight.load(ordering: .relaxed)
            r.requestLoop = FuseUring.loopName
            r.uringRequests = FuseUring.served
            r.lookupsAhead = FuseStats.lookupsAhead
        }
        do {
            let control = try ControlServer(target: target, logger: logger)
            logger.info("mounted", metadata: ["mount.server": "\(server)", "mount.source": "\(source)",
                                              "mount.point": "\(mountpoint)", "control.socket": "\(control.path)"])
            return control
        } catch {
            logger.warning("no control endpoint: qtinfo will not see this mount", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// One report per connection slot, numbered from 1. Reads atomics and the kernel's TCP
    /// counters only: answers at once while the session reconnects.
    private static func reports(_ session: Session, _ server: String) -> [ConnectionReport] {
        session.health.enumerated().map { i, h in
            let bytes = TcpInfo.bytes(h.connection.fd)
            return ConnectionReport(id: UInt64(i + 1), peer: server, state: h.phase.rawValue,
                                    requestsInFlight: UInt64(h.requestsInFlight),
                                    bytesIn: bytes?.received ?? 0, bytesOut: bytes?.acked ?? 0,
                                    crypt: h.connection.cryptName)
        }
    }
}
