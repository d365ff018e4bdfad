// What a component (qtfs-server, one qtfs-fuse mount) exposes to its control endpoint,
// and the answers to each control command.
import Glibc
import QtfsSystem

/// The server's whitelist at run time. Errors thrown are shown to the operator as they are.
public protocol WhitelistControl: Sendable {
    func list(type: String?) throws -> [WhitelistEntry]
    func add(type: String, path: String) throws
    func remove(type: String, index: Int) throws
    /// Writes the whitelist back to its file; returns the file's path.
    func save() throws -> String
}

public struct ControlError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

public final class ControlTarget: Sendable {
    public let role: String
    public let version: String
    public let stats: StatsRegistry
    public let connections: @Sendable () -> [ConnectionReport]
    public let logLevel: LogLevelHandle
    public let whitelist: (any WhitelistControl)?
    /// Fills the role's own fields (exports, mount point, ...) of a status report.
    public let describe: @Sendable (inout StatusReport) -> Void
    let startedAt: Double
    let startedMono: UInt64

    public init(role: String, version: String, stats: StatsRegistry, connections: @escaping @Sendable () -> [ConnectionReport],
                logLevel: LogLevelHandle, whitelist: (any WhitelistControl)? = nil,
                describe: @escaping @Sendable (inout StatusReport) -> Void = { _ in }) {
        self.role = role; self.version = version; self.stats = stats; self.connections = connections
        self.logLevel = logLevel; self.whitelist = whitelist; self.describe = describe
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        startedAt = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        startedMono = MonotonicClock.nanoseconds()
    }

    public func status() -> StatusReport {
        let conns = connections()
        var r = StatusReport(role: role, pid: getpid(), version: version, startedAt: startedAt,
                             uptimeSeconds: Double(MonotonicClock.nanoseconds() - startedMono) / 1e9,
                             logLevel: logLevel.level.rawValue,
                             requestsInFlight: conns.reduce(0) { $0 + $1.requestsInFlight },
                             bytesIn: conns.reduce(0) { $0 + $1.bytesIn }, bytesOut: conns.reduce(0) { $0 + $1.bytesOut },
                             connections: conns)
        describe(&r)
        return r
    }

    public func answer(_ req: ControlRequest) -> ControlResponse {
        do {
            return try answerOrThrow(req)
        } catch {
            return .failure("\(error)")
        }
    }

    private func answerOrThrow(_ req: ControlRequest) throws -> ControlResponse {
        var r = ControlResponse()
        switch req.command {
        case .status: r.status = status()
        case .stats: r.stats = stats.snapshot()
        case .clear: stats.clear()
        case .setLogLevel:
            guard let name = req.level, let level = QtfsLogLevel(name: name) else {
                throw ControlError("unknown log level '\(req.level ?? "")'; use \(QtfsLogLevel.namesForHelp)")
            }
            logLevel.set(level)
            r.logLevel = logLevel.level.rawValue
        case .whitelistList: r.whitelist = try requireWhitelist().list(type: req.type)
        case .whitelistAdd:
            guard let type = req.type, let path = req.path else { throw ControlError("whitelist-add needs a type and a path") }
            try requireWhitelist().add(type: type, path: path)
            r.whitelist = try requireWhitelist().list(type: type)
        case .whitelistRemove:
            guard let type = req.type, let index = req.index else { throw ControlError("whitelist-remove needs a type and an index") }
            try requireWhitelist().remove(type: type, index: index)
            r.whitelist = try requireWhitelist().list(type: type)
        case .whitelistSave:
            r.savedTo = try requireWhitelist().save()
        }
        return r
    }

    private func requireWhitelist() throws -> any WhitelistControl {
        guard let whitelist else {
            throw ControlError(role == "server"
                ? "this qtfs-server runs without a whitelist; start it with --whitelist FILE (e.g. /etc/qtfs/whitelist) to edit one"
                : "a qtfs-fuse mount has no whitelist; whitelists belong to qtfs-server (use --component server-PID)")
        }
        return whitelist
    }
}
