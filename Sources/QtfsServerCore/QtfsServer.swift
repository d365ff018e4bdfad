// The public face of the server library: build it from a configuration, start it
// (binds, starts the worker pool and the io_uring loop thread), stop it.
import Glibc
internal import CQtfsSys
import Logging
import QtfsControl
import QtfsProtocol
import QtfsSystem

public final class QtfsServer: @unchecked Sendable {
    public let config: ServerConfig
    private let logger: Logger
    private let backend: Backend
    private let admission: Admission
    /// The loaded whitelist (`whitelistFile`), editable at run time; nil when none.
    public let whitelist: Whitelist?
    private var engine: Engine?
    private var pool: WorkerPool?
    private var loopThread: pthread_t?
    private let lock = Lock()
    private let finishedCond = Condition()
    private var finished = false
    /// The bound TCP port (useful with port 0); 0 before `start()`.
    public private(set) var port: UInt16 = 0
    /// Per-operation statistics and live connections, for the control endpoint (qtinfo).
    public let opStats: StatsRegistry
    public let connections = ConnectionRegistry()

    /// Opens the exports (each as an O_PATH fd); fails with a `ConfigError` that says why.
    /// `statsMirror` receives every recorded request too (the Prometheus export).
    public init(config: ServerConfig, logger: Logger, statsMirror: (any StatsMirror)? = nil) throws {
        self.config = config
        self.logger = logger
        opStats = StatsRegistry(names: Engine.opNames, mirror: statsMirror)
        whitelist = try config.whitelistFile.map { try Whitelist(file: $0) }
        whitelist?.logger = logger
        backend = Backend(exports: try Exports(config.exports), whitelist: whitelist)
        admission = try Admission(config)
    }

    /// Binds the listening socket and starts serving on background threads.
    public func start() throws {
        guard lock.withLock({ self.engine == nil }) else { throw ConfigError("server already started; call stop() first") }
        signal(SIGPIPE, SIG_IGN)
        umask(0)   // clients send their own umask; the host's must not be applied on top
        if admission.crypt == .none {
            logger.warning("crypt none: frames travel in plaintext without integrity checks; anyone on the path can read file contents and alter requests (use only on a link you trust; --crypt aead with a key seals them)")
        }
        if !Credentials.canSwitch {
            logger.warning("not running as root: every request acts as this user, not as the caller")
        }
        let (fd, bound) = try SocketAddress.listen(address: config.listen, port: config.port)
        let completions = try Completions()
        let router = Router(backend: backend, logger: logger)
        let pool = try WorkerPool(count: max(1, config.workers), router: router, completions: completions)
        let engine: Engine
        do {
            engine = try Engine(listenFd: fd, config: config, logger: logger, pool: pool, router: router,
                                backend: backend, completions: completions, opStats: opStats, connRegistry: connections,
                                admission: admission)
        } catch {
            close(fd); pool.stop(); throw error
        }
        self.port = bound
        self.pool = pool
        self.engine = engine
        loopThread = try Threads.start(detached: false) { [self] in
            engine.run()
            lock.withLock { finished = true }
            finishedCond.broadcast()
        }
        logger.info("serving", metadata: ["listen": "\(config.listen):\(bound)",
                                          "auth": "\(admission.key == nil ? "none" : "hmac-sha256")",
                                          "crypt": "\(admission.crypt.rawValue)",
                                          "exports": "\(config.exports.map(\.path))", "workers": "\(config.workers)"])
    }

    /// Stops accepting, closes every connection and its handles, joins all threads.
    public func stop() {
        guard let engine, let loopThread else { return }
        engine.requestStop()
        pthread_join(loopThread, nil)
        if let pool, !pool.stop() {
            logger.warning("a worker is still blocked in a system call (a fifo open?); left behind")
        }
        self.loopThread = nil
        self.engine = nil
        self.pool = nil
        logger.info("stopped")
    }

    /// Blocks until the event loop has ended (after `stop()`, or a fatal io_uring error).
    public func wait() {
        lock.withLock { while !finished && loopThread != nil { finishedCond.wait(lock) } }
    }

    /// Open connections right now.
    public var connectionCount: Int { engine?.stats.connections ?? 0 }

    deinit { stop() }
}
