// qtfs.ko as a qtinfo component (role "kmod", address "netlink:qtfs"): the control
// requests of docs/qtinfo.md answered through KernelModuleSource (generic netlink).
import QtfsControl
import QtfsSystem

/// Finds the module: present when /proc/filesystems lists qtfs (readable by anyone; the
/// netlink commands themselves need CAP_NET_ADMIN).
struct KmodSource: ComponentSource {
    var filesystems = "/proc/filesystems"

    func discover() throws -> [any QtfsComponent] {
        guard let text = readWholeFile(filesystems),
              text.split(separator: "\n").contains(where: { $0.split(whereSeparator: \.isWhitespace).last == "qtfs" })
        else { return [] }
        return [KmodComponent()]
    }
}

struct KmodComponent: QtfsComponent {
    let name = "kmod"
    let role = "kmod"
    let address = "netlink:qtfs"
    var module = KernelModuleSource()

    func send(_ request: ControlRequest) throws -> ControlResponse {
        do {
            var r = ControlResponse()
            switch request.command {
            case .status: r.status = Self.report(try module.status())
            case .stats: r.stats = try module.stats().map(Self.report)
            case .clear: try module.clear()
            case .setLogLevel:
                guard let name = request.level, let level = Self.kernelLevel(name) else {
                    return .failure("unknown log level '\(request.level ?? "")': use \(QtfsLogLevel.namesForHelp)")
                }
                r.logLevel = Self.levelName(try module.setLogLevel(level).logLevel)
            case .whitelistList, .whitelistAdd, .whitelistRemove, .whitelistSave:
                return .failure("the kernel module keeps no whitelist: the whitelist belongs to qtfs-server (-C server)")
            }
            return r
        } catch let f as KernelModuleSource.Failure {
            return .failure("\(f)")
        }
    }

    /// qtinfo's names (NONE…DEBUG; TRACE is the module's DEBUG).
    static func kernelLevel(_ name: String) -> KernelModuleSource.LogLevel? {
        name.uppercased() == "TRACE" ? .debug : KernelModuleSource.LogLevel(name: name)
    }

    static func levelName(_ l: KernelModuleSource.LogLevel?) -> String {
        l.map { "\($0)".uppercased() } ?? "?"
    }

    /// One connection per mount; the module counts no bytes and has no start time.
    static func report(_ s: KernelModuleSource.Status) -> StatusReport {
        let conns = s.mounts.enumerated().map { i, m in
            ConnectionReport(id: UInt64(i + 1), peer: "\(m.server) \(m.source)", state: state(m.state),
                             requestsInFlight: UInt64(m.inflight), bytesIn: 0, bytesOut: 0)
        }
        var r = StatusReport(role: "kmod", pid: 0, version: "qtfs.ko, protocol v1", startedAt: 0, uptimeSeconds: 0,
                             logLevel: levelName(s.logLevel), requestsInFlight: conns.reduce(0) { $0 + $1.requestsInFlight },
                             bytesIn: 0, bytesOut: 0, connections: conns)
        r.listen = "netlink:qtfs"
        r.exports = s.mounts.map { "\($0.server):\($0.source)" }
        return r
    }

    static func state(_ s: KernelModuleSource.Mount.State?) -> String {
        switch s {
        case .up: return "active"
        case .dead: return "reconnecting"
        case .down, nil: return "closed"
        }
    }

    /// As the other components: every failure counted by errno, p50/p99 from the module's
    /// histogram (same buckets as OpCounters). A module without them (older build) gives
    /// count, errors (interrupted waits included) and total time only.
    static func report(_ o: KernelModuleSource.OpStats) -> OpStatsReport {
        guard let d = o.detail else {
            return OpStatsReport(op: o.name, count: o.sent, errors: o.errors, errnos: [:],
                                 totalNanos: o.latencyNs, maxNanos: 0, histogram: [])
        }
        var errnos: [String: UInt64] = [:]
        for (code, n) in d.errnos { errnos[ErrnoNames.name(code), default: 0] += n }
        let hist = d.histogram + Array(repeating: 0, count: max(0, OpCounters.bucketCount - d.histogram.count))
        return OpStatsReport(op: o.name, count: o.sent, errors: d.failed, errnos: errnos,
                             totalNanos: o.latencyNs, maxNanos: d.maxNs, histogram: hist)
    }
}
