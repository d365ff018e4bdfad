// qtfs.ko seen through its generic netlink family "qtfs" (kmod/README.md, "Generic
// netlink family"). Every command needs CAP_NET_ADMIN: the family is GENL_ADMIN_PERM.
import CNetlink
import QtfsProtocol

struct KernelModuleSource {
    enum LogLevel: UInt32, CaseIterable {
        case none = 0, error, warn, info, debug

        init?(name: String) {
            if let n = UInt32(name), let l = LogLevel(rawValue: n) { self = l; return }
            guard let l = LogLevel.allCases.first(where: { "\($0)" == name.lowercased() }) else { return nil }
            self = l
        }
    }

    struct Mount: Equatable {
        enum State: UInt32 { case down = 0, up, dead }
        var source: String
        var server: String
        var state: State?
        var inflight: UInt32
        var exportID: UInt32
        var reconnects: UInt64
        /// The connection's sealing: a suite, or nil for plaintext (or an older module).
        var crypt: Sealed.Suite? = nil
    }

    struct Status {
        var logLevel: LogLevel?
        var lateReplies: UInt64
        var liveRequests: UInt64
        var mounts: [Mount]
    }

    struct OpStats {
        var code: UInt32
        var name: String
        var sent: UInt64
        var errors: UInt64
        var interrupted: UInt64
        var latencyNs: UInt64
        /// What modules with per-errno counts and a histogram send (nil from older ones).
        var detail: Detail? = nil

        struct Detail: Equatable {
            var maxNs: UInt64
            /// Every failed request, ENOENT and interrupted waits included.
            var failed: UInt64
            /// Answered requests per log2 bucket, OpCounters' layout (docs/qtinfo.md).
            var histogram: [UInt64]
            /// Failed requests by errno (0: a value outside 1...133).
            var errnos: [Int32: UInt64]
        }

        /// Mean round trip of the answered requests, if any were answered.
        var meanLatencyNs: UInt64? {
            let answered = detail.map { $0.histogram.reduce(0, +) } ?? (sent &- errors &- interrupted)
            return answered > 0 && answered <= sent ? latencyNs / answered : nil
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case notLoaded, denied, noSocket(String), failed(String)

        var description: String {
            switch self {
            case .notLoaded: return "qtfs.ko is not loaded (no generic netlink family \"qtfs\"): load it with `modprobe qtfs` or `insmod qtfs.ko`"
            case .denied: return "the kernel refused: qtfs.ko's netlink commands need CAP_NET_ADMIN — run qtinfo as root"
            case .noSocket(let m): return "cannot open a generic netlink socket (\(m))"
            case .failed(let m): return "netlink request to qtfs.ko failed: \(m)"
            }
        }
    }

    func status() throws -> Status { Self.status(of: try call(qtfs_nl_get_status)) }
    func stats() throws -> [OpStats] { try call(qtfs_nl_get_stats).ops }
    func clear() throws { _ = try call(qtfs_nl_clear_stats) }

    @discardableResult
    func setLogLevel(_ level: LogLevel) throws -> Status {
        Self.status(of: try call { qtfs_nl_set_log_level(level.rawValue, $0) })
    }

    private struct Reply {
        var logLevel: UInt32
        var lateReplies: UInt64
        var liveRequests: UInt64
        var mounts: [Mount]
        var ops: [OpStats]
    }

    private static func status(of r: Reply) -> Status {
        Status(logLevel: LogLevel(rawValue: r.logLevel), lateReplies: r.lateReplies,
               liveRequests: r.liveRequests, mounts: r.mounts)
    }

    private func call(_ fn: (UnsafeMutablePointer<qtfs_nl_reply>) -> qtfs_nl_result) throws -> Reply {
        var raw = qtfs_nl_reply()
        defer { qtfs_nl_reply_free(&raw) }
        let result = fn(&raw)
        let message = cString(raw.error)
        switch result {
        case QTFS_NL_OK: break
        case QTFS_NL_NO_FAMILY: throw Failure.notLoaded
        case QTFS_NL_DENIED: throw Failure.denied
        case QTFS_NL_NO_SOCKET: throw Failure.noSocket(message)
        default: throw Failure.failed(message)
        }
        let mounts = (0..<Int(raw.mount_count)).map { i -> Mount in
            let m = raw.mounts[i]
            return Mount(source: cString(m.source), server: cString(m.server), state: Mount.State(rawValue: m.state),
                         inflight: m.inflight, exportID: m.export_id, reconnects: m.reconnects,
                         crypt: Sealed.Suite(rawValue: UInt16(truncatingIfNeeded: m.crypt)))
        }
        let ops = (0..<Int(raw.op_count)).map { i -> OpStats in
            let o = raw.ops[i]
            return OpStats(code: o.code, name: cString(o.name), sent: o.sent, errors: o.errors,
                           interrupted: o.interrupted, latencyNs: o.latency_ns,
                           detail: o.has_detail != 0 ? Self.detail(o) : nil)
        }
        return Reply(logLevel: raw.log_level, lateReplies: raw.late_replies,
                     liveRequests: raw.live_requests, mounts: mounts, ops: ops)
    }
}

extension KernelModuleSource {
    fileprivate static func detail(_ o: qtfs_nl_op) -> OpStats.Detail {
        let hist = u64Array(o.histogram)
        var errnos: [Int32: UInt64] = [:]
        for (code, n) in u64Array(o.errnos).enumerated() where n > 0 { errnos[Int32(code)] = n }
        return OpStats.Detail(maxNs: o.max_ns, failed: o.failed, histogram: hist, errnos: errnos)
    }
}

/// A C uint64_t array imported as a tuple.
private func u64Array<T>(_ tuple: T) -> [UInt64] {
    withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: UInt64.self)) }
}

/// A NUL-terminated C char array imported as a tuple.
private func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
