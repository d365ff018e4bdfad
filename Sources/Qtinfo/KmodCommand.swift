// `qtinfo kmod …`: status, per-op statistics, clear and log level of qtfs.ko.
import ArgumentParser

struct Kmod: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmod",
        abstract: "Inspect and control the kernel client qtfs.ko (generic netlink; needs CAP_NET_ADMIN).",
        subcommands: [KmodStatus.self, KmodStats.self, KmodClear.self, KmodLogLevel.self],
        defaultSubcommand: KmodStatus.self)
}

struct KmodStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Log level, request counters and one line per qtfs mount.")

    func run() throws { print(KmodReport.status(try kmodCall { try $0.status() }), terminator: "") }
}

struct KmodStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Per-operation counters since the last clear.")

    func run() throws { print(KmodReport.stats(try kmodCall { try $0.stats() }), terminator: "") }
}

struct KmodClear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear", abstract: "Zero the per-operation counters and late_replies.")

    func run() throws { try kmodCall { try $0.clear() } }
}

struct KmodLogLevel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loglevel", abstract: "Set the module's log level: none, error, warn, info, debug (or 0-4).")

    @Argument(help: "none, error, warn, info, debug, or 0-4")
    var level: String

    func validate() throws {
        guard KernelModuleSource.LogLevel(name: level) != nil else {
            throw ValidationError("unknown log level '\(level)': use none, error, warn, info, debug or 0-4")
        }
    }

    func run() throws {
        let st = try kmodCall { try $0.setLogLevel(KernelModuleSource.LogLevel(name: level)!) }
        print("log_level \(st.logLevel.map { "\($0)" } ?? "?")")
    }
}

/// Runs one request. A failure (KernelModuleSource.Failure) is printed by ArgumentParser
/// as "Error: <what went wrong and what to do>" with exit status 1.
private func kmodCall<T>(_ body: (KernelModuleSource) throws -> T) throws -> T {
    try body(KernelModuleSource())
}

/// Text forms of the answers: "key value" lines that scripts can parse.
enum KmodReport {
    static func status(_ s: KernelModuleSource.Status) -> String {
        var out = "log_level \(s.logLevel.map { "\($0)" } ?? "?")\n"
        out += "late_replies \(s.lateReplies)\nlive_requests \(s.liveRequests)\nmounts \(s.mounts.count)\n"
        for m in s.mounts {
            out += "mount \(m.source) server \(m.server) state \(m.state.map { "\($0)" } ?? "?") "
            out += "inflight \(m.inflight) reconnects \(m.reconnects) export \(m.exportID) "
            out += "crypt \(m.crypt.map { "\($0)" } ?? "none")\n"
        }
        return out
    }

    /// One line per op; a module with histograms adds p50/p99/max (µs) and
    /// `errnos NAME:COUNT,…` (every failure, ENOENT included; `-` for none).
    static func stats(_ ops: [KernelModuleSource.OpStats]) -> String {
        ops.map { o in
            let mean = o.meanLatencyNs.map { "\($0 / 1000)" } ?? "-"
            var line = "op \(o.name) sent \(o.sent) errors \(o.errors) interrupted \(o.interrupted) mean_us \(mean)"
            if o.detail != nil {
                let r = KmodComponent.report(o)
                let errnos = r.errnos.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
                line += " p50_us \(r.p50Nanos / 1000) p99_us \(r.p99Nanos / 1000) max_us \(r.maxNanos / 1000)"
                line += " errnos \(errnos.isEmpty ? "-" : errnos)"
            }
            return line + "\n"
        }.joined()
    }
}
