// qtfs-server: exports host directories to qtfs clients over TCP.
import ArgumentParser
import Foundation
import Glibc
import Logging
import QtfsServerCore

@main
struct QtfsServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qtfs-server",
        abstract: "Export host directories to qtfs clients (qtfs-fuse, qtfs.ko) over TCP.",
        discussion: """
            Each request runs with the caller's uid, gid and groups, confined beneath its
            export. Options given here override the config file (docs/server.md).

            Examples:
              qtfs-server --export /
              qtfs-server --listen 0.0.0.0 --port 12345 --export /srv:ro,root_squash
              qtfs-server --config /etc/qtfs/server.conf --log-level debug
            """)

    @Option(help: "Address to listen on (IPv4 or IPv6).")
    var listen: String?

    @Option(help: "TCP port to listen on (default 12345; 0 picks a free one).")
    var port: UInt16?

    @Option(name: .customLong("export"),
            help: ArgumentHelp("Host directory to export, with options after ':' (ro, root_squash). Repeatable. Default: /.",
                               valueName: "dir[:ro,root_squash]"))
    var exports: [String] = []

    @Option(help: ArgumentHelp("Config file (INI-like, see docs/server.md).", valueName: "file"))
    var config: String?

    @Option(help: "Worker threads for metadata operations (default max(4, 2 x cores)).")
    var workers: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func validate() throws {
        if let workers, !(1...1024).contains(workers) { throw ValidationError("--workers must be between 1 and 1024") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level '\(logLevel)' unknown; use trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() throws {
        let cfg = try buildConfig()
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = cfg.logLevel
            return h
        }
        let logger = Logger(label: "qtfs-server")
        // SIGINT/SIGTERM are taken by sigwait below, so every thread must block them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // ConfigError texts say what went wrong and what to do; ArgumentParser prints them.
        let server = try QtfsServer(config: cfg, logger: logger)
        try server.start()
        // If the loop ends by itself (fatal io_uring error), wake the main thread too.
        let watcher = Thread { server.wait(); kill(getpid(), SIGTERM) }
        watcher.start()
        var sig: Int32 = 0
        sigwait(&signals, &sig)
        logger.info("stopping", metadata: ["signal": "\(sig)"])
        server.stop()
    }

    private func buildConfig() throws -> ServerConfig {
        var cfg = ServerConfig()
        if let config { try cfg.load(file: config) }
        if !exports.isEmpty { cfg.exports = try exports.map(ServerConfig.parseExport) }
        if let listen { cfg.listen = listen }
        if let port { cfg.port = port }
        if let workers { cfg.workers = workers }
        if let logLevel, let l = Logger.Level(rawValue: logLevel) { cfg.logLevel = l }
        return cfg
    }
}
