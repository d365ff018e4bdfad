// The control protocol: one JSON request per connection, one JSON response, then close.
// These types are the `qtinfo --json` schema too (docs/qtinfo.md); add fields, never
// rename or remove them.
public enum ControlCommand: String, Codable, Sendable {
    case status, stats, clear
    case setLogLevel = "set-log-level"
    case whitelistList = "whitelist-list"
    case whitelistAdd = "whitelist-add"
    case whitelistRemove = "whitelist-remove"
    case whitelistSave = "whitelist-save"
}

public struct ControlRequest: Codable, Sendable, Equatable {
    public var command: ControlCommand
    /// set-log-level: NONE, ERROR, WARN, INFO, DEBUG (or TRACE).
    public var level: String?
    /// whitelist-*: the whitelist type (open, write, ...); nil with whitelist-list = all.
    public var type: String?
    /// whitelist-add: the path to allow.
    public var path: String?
    /// whitelist-remove: the index shown by whitelist-list.
    public var index: Int?

    public init(command: ControlCommand, level: String? = nil, type: String? = nil, path: String? = nil, index: Int? = nil) {
        self.command = command; self.level = level; self.type = type; self.path = path; self.index = index
    }
}

public struct ControlResponse: Codable, Sendable {
    public var ok: Bool
    /// Set when ok is false: one line saying what went wrong and what to do.
    public var error: String?
    public var status: StatusReport?
    public var stats: [OpStatsReport]?
    public var whitelist: [WhitelistEntry]?
    /// After set-log-level: the level now in effect.
    public var logLevel: String?
    /// After whitelist-save: the file written.
    public var savedTo: String?

    public init(ok: Bool = true, error: String? = nil) { self.ok = ok; self.error = error }
    public static func failure(_ message: String) -> ControlResponse { ControlResponse(ok: false, error: message) }
}

public struct StatusReport: Codable, Sendable, Equatable {
    /// "server" or "fuse".
    public var role: String
    public var pid: Int32
    public var version: String
    /// Unix time the component started, and seconds since then.
    public var startedAt: Double
    public var uptimeSeconds: Double
    public var logLevel: String
    /// Requests taken in and not yet answered.
    public var requestsInFlight: UInt64
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    public var connections: [ConnectionReport]
    /// Server only: listening address and exported host directories.
    public var listen: String?
    public var exports: [String]?
    /// FUSE client only: the server, the host path mounted and where.
    public var server: String?
    public var source: String?
    public var mountpoint: String?
    /// FUSE client only: how requests reach it, "io_uring" or "/dev/fuse", and how many
    /// were answered through the ring (docs/client.md, "FUSE over io_uring").
    public var requestLoop: String?
    public var uringRequests: UInt64?
    /// FUSE client only: kernel LOOKUPs answered by lookups sent ahead (docs/client.md,
    /// "Proc mode" and "Strict mounts").
    public var lookupsAhead: UInt64?
    /// Server only: programs started through remote exec and still running.
    public var remotePrograms: [RemoteProgramReport]?

    public init(role: String, pid: Int32, version: String, startedAt: Double, uptimeSeconds: Double, logLevel: String,
                requestsInFlight: UInt64, bytesIn: UInt64, bytesOut: UInt64, connections: [ConnectionReport]) {
        self.role = role; self.pid = pid; self.version = version; self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds; self.logLevel = logLevel; self.requestsInFlight = requestsInFlight
        self.bytesIn = bytesIn; self.bytesOut = bytesOut; self.connections = connections
    }
}

public struct ConnectionReport: Codable, Sendable, Equatable {
    public var id: UInt64
    public var peer: String
    /// connecting, active, reconnecting or closed.
    public var state: String
    public var requestsInFlight: UInt64
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    /// How frames travel: "aes-256-gcm", "chacha20-poly1305" or "none"; nil before the
    /// handshake decided it (or where the component does not say).
    public var crypt: String?

    public init(id: UInt64, peer: String, state: String, requestsInFlight: UInt64, bytesIn: UInt64, bytesOut: UInt64,
                crypt: String? = nil) {
        self.id = id; self.peer = peer; self.state = state
        self.requestsInFlight = requestsInFlight; self.bytesIn = bytesIn; self.bytesOut = bytesOut
        self.crypt = crypt
    }
}

/// One remote-exec program running on the host (docs/rexec.md).
public struct RemoteProgramReport: Codable, Sendable, Equatable {
    public var peer: String
    public var dpuPid: UInt32
    public var hostPid: Int32
    public var program: String
    public var uid: UInt32
    /// Unix time it started.
    public var startedAt: Double
    public var bytesIn: UInt64
    public var bytesOut: UInt64

    public init(peer: String, dpuPid: UInt32, hostPid: Int32, program: String, uid: UInt32, startedAt: Double,
                bytesIn: UInt64, bytesOut: UInt64) {
        self.peer = peer; self.dpuPid = dpuPid; self.hostPid = hostPid; self.program = program; self.uid = uid
        self.startedAt = startedAt; self.bytesIn = bytesIn; self.bytesOut = bytesOut
    }
}

public struct OpStatsReport: Codable, Sendable, Equatable {
    public var op: String
    public var count: UInt64
    public var errors: UInt64
    /// Failed requests by errno name ("ENOENT": 3).
    public var errnos: [String: UInt64]
    public var totalNanos: UInt64
    public var maxNanos: UInt64
    /// Estimates: the upper bound of the log2 bucket holding that rank (never above max).
    public var p50Nanos: UInt64
    public var p99Nanos: UInt64
    /// histogram[i] counts requests that took [2^i, 2^(i+1)) ns (the last bucket: longer).
    public var histogram: [UInt64]

    public init(op: String, count: UInt64, errors: UInt64, errnos: [String: UInt64], totalNanos: UInt64,
                maxNanos: UInt64, histogram: [UInt64]) {
        self.op = op; self.count = count; self.errors = errors; self.errnos = errnos
        self.totalNanos = totalNanos; self.maxNanos = maxNanos; self.histogram = histogram
        p50Nanos = OpStatsReport.percentile(0.50, histogram, max: maxNanos)
        p99Nanos = OpStatsReport.percentile(0.99, histogram, max: maxNanos)
    }

    static func percentile(_ q: Double, _ hist: [UInt64], max: UInt64) -> UInt64 {
        let total = hist.reduce(0, +)
        guard total > 0 else { return 0 }
        let rank = UInt64((Double(total) * q).rounded(.up))
        var seen: UInt64 = 0
        for (i, n) in hist.enumerated() {
            seen += n
            if seen >= rank { return Swift.min(max, (UInt64(1) << UInt64(i + 1)) - 1) }
        }
        return max
    }
}

public struct WhitelistEntry: Codable, Sendable, Equatable {
    public var type: String
    public var index: Int
    public var path: String
    public init(type: String, index: Int, path: String) { self.type = type; self.index = index; self.path = path }
}
