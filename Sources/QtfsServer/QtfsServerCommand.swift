// qtfs-server: exports host directories to qtfs clients over TCP.
import ArgumentParser
import Glibc
import Logging
import QtfsControl
import QtfsMetrics
import QtfsServerCore
import QtfsSystem

@main
struct QtfsServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qtfs-server",
        abstract: "Export host directories to qtfs clients (qtfs-fuse, qtfs.ko) over TCP.",
        discussion: """
            Each request runs with the caller's uid, gid and groups, confined beneath its
            export. Options given here override the config file (docs/server.md).

            Examples:
              qtfs-server --generate-key /etc/qtfs/qtfs.key
              qtfs-server --key /etc/qtfs/qtfs.key --export /
              qtfs-server --no-auth --export /tmp/scratch            # loopback testing only
              qtfs-server --key /etc/qtfs/qtfs.key --listen 0.0.0.0 --allow-client 192.0.2.0/24 --export /srv:ro,root_squash
              qtfs-server --config /etc/qtfs/server.conf --log-level debug
            """)

    @Option(help: "Address to listen on (IPv4 or IPv6).")
    var listen: String?

    @Option(help: "TCP port to listen on (default 12345; 0 picks a free one).")
    var port: UInt16?

    @Option(name: .customLong("export"),
            help: ArgumentHelp("Host directory to export, with options after ':' (ro or rw, root_squash or no_root_squash). Repeatable. Default: /.",
                               valueName: "dir[:ro,root_squash]"))
    var exports: [String] = []

    @Option(name: .customLong("unix-connect"),
            help: ArgumentHelp("Host unix socket (or directory ending in /) clients may connect to through the socket bridge. Repeatable.",
                               valueName: "path"))
    var unixConnect: [String] = []

    @Option(name: .customLong("unix-listen"),
            help: ArgumentHelp("Host path (or directory ending in /) where clients may serve a DPU unix socket to host processes. Repeatable.",
                               valueName: "path"))
    var unixListen: [String] = []

    @Option(name: .customLong("rexec-whitelist"),
            help: ArgumentHelp("Turn remote exec on: programs DPU callers may start, one absolute path a line (upstream's /etc/rexec/whitelist format).",
                               valueName: "file"))
    var rexecWhitelist: String?

    @Option(help: ArgumentHelp("Config file (INI-like, see docs/server.md).", valueName: "file"))
    var config: String?

    @Option(help: "Worker threads for metadata operations (default max(4, 2 x cores)).")
    var workers: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (change it at run time with qtinfo -l).")
    var logLevel: String?

    @Option(help: ArgumentHelp("Serve Prometheus metrics (GET /metrics) on this IPv4 address and port; off by default.",
                               valueName: "host:port"))
    var metricsListen: String?

    @OptionGroup var security: SecurityOptions

    func validate() throws {
        if let workers, !(1...1024).contains(workers) { throw ValidationError("--workers must be between 1 and 1024") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level '\(logLevel)' unknown; use trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() throws {
        if let path = security.generateKey { return try SecurityOptions.generate(path) }
        let cfg = try buildConfig()
        let level = LogLevelHandle(cfg.logLevel)   // shared with qtinfo -l
        ControlledLogHandler.bootstrap(level)
        let logger = Logger(label: "qtfs-server")
        // SIGINT/SIGTERM are taken by sigwait below, so every thread must block them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // ConfigError texts say what went wrong and what to do; ArgumentParser prints them.
        let mirror = cfg.metricsListen.map { _ in PrometheusMirror(prefix: "qtfs_server", ops: QtfsServer.opNames) }
        let server = try QtfsServer(config: cfg, logger: logger, statsMirror: mirror)
        try server.start()
        let endpoints = try Endpoints.start(server.controlTarget(logLevel: level, whitelist: server.whitelist), metricsAddress: cfg.metricsListen,
                                            mirror: mirror, logger: logger)
        defer { endpoints.stop() }
        // If the loop ends by itself (fatal io_uring error), wake the main thread too.
        try Threads.start { server.wait(); kill(getpid(), SIGTERM) }
        var sig: Int32 = 0
        sigwait(&signals, &sig)
        logger.info("stopping", metadata: ["signal": "\(sig)"])
        server.stop()
    }

    private func buildConfig() throws -> ServerConfig {
        var cfg = ServerConfig()
        if let config { try cfg.load(file: config) }
        if !exports.isEmpty { cfg.exports = try exports.map(ServerConfig.parseExport) }
        cfg.unixConnect += unixConnect
        cfg.unixListen += unixListen
        if let rexecWhitelist { cfg.rexecWhitelist = rexecWhitelist }
        if let listen { cfg.listen = listen }
        if let port { cfg.port = port }
        if let workers { cfg.workers = workers }
        if let logLevel, let l = Logger.Level(rawValue: logLevel) { cfg.logLevel = l }
        if let metricsListen { cfg.metricsListen = metricsListen }
        try security.apply(to: &cfg)
        return cfg
    }
}
