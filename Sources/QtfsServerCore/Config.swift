// Server configuration: what the CLI and the config file fill in.
internal import CQtfsSys
import Logging
import QtfsProtocol

public struct ExportConfig: Equatable, Sendable {
    /// Absolute host directory exported.
    public var path: String
    /// Every mutating operation answers EROFS.
    public var readOnly: Bool
    /// Callers with uid 0 act as nobody (65534/65534).
    public var rootSquash: Bool

    public init(path: String, readOnly: Bool = false, rootSquash: Bool = false) {
        self.path = path; self.readOnly = readOnly; self.rootSquash = rootSquash
    }
}

public struct ServerConfig: Equatable, Sendable {
    public static let defaultWorkers = max(4, 2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// IPv4 or IPv6 address to listen on.
    public var listen: String = "127.0.0.1"
    /// TCP port; 0 picks a free one (see `QtfsServer.port`).
    public var port: UInt16 = 12345
    public var exports: [ExportConfig] = [ExportConfig(path: "/")]
    /// Threads running metadata operations with the callers' credentials.
    public var workers: Int = ServerConfig.defaultWorkers
    /// Connections beyond this are accepted and closed at once, with a log line.
    public var maxConnections: Int = 1024
    /// Requests a connection may have in flight before the server stops reading from it.
    public var maxInFlight: Int = 256
    /// Socket buffer sizes (SO_SNDBUF / SO_RCVBUF), bytes.
    public var socketBuffer: Int = 4 << 20
    public var logLevel: Logger.Level = .info
    /// HOST:PORT of the Prometheus text endpoint (GET /metrics); nil = off.
    public var metricsListen: String?
    /// Host unix sockets clients may connect to through SOCK_CONNECT: exact paths, or
    /// directories ending in "/" (everything beneath). Empty: none (docs/server.md).
    public var unixConnect: [String] = []
    /// Host paths where clients may create listening sockets through SOCK_LISTEN (same
    /// form). Empty: none.
    public var unixListen: [String] = []
    /// Remote exec (docs/rexec.md): the whitelist of programs DPU callers may start, in
    /// upstream's format (/etc/rexec/whitelist). nil: remote exec is off.
    public var rexecWhitelist: String?

    // Security (docs/server.md, "Security"). The command line refuses to start with
    // neither a key nor `--no-auth`; the library serves without authentication when
    // `authKeyFile` is nil (in-process tests).
    /// Pre-shared key file for the authentication handshake (mode 0600).
    public var authKeyFile: String?
    /// Explicitly serving without authentication (`--no-auth`, `auth = none`).
    public var noAuth: Bool = false
    /// Sealed frames (docs/protocol.md, "Sealed frames"); nil: aead with a key, none without.
    public var crypt: CryptMode?
    /// Client addresses allowed to connect ("192.0.2.7", "10.0.0.0/8", "fd00::/8"); empty = any.
    public var allowedClients: [String] = []
    /// Upstream-format whitelist (`/etc/qtfs/whitelist`); nil = every operation allowed.
    public var whitelistFile: String?

    // Limits (docs/server.md, "Limits").
    /// Largest frame payload accepted; bigger headers close the connection.
    public var maxFrame: Int = Wire.maxPayload
    /// Open handles (files and directories) per connection; more answer EMFILE.
    public var maxHandles: Int = 4096
    /// Connections from one client address; more are closed at once.
    public var maxConnectionsPerAddress: Int = 256
    /// Seconds a connection may take to finish HELLO and authentication.
    public var handshakeTimeout: Int = 10
    /// Seconds without any request before a connection with nothing in flight is closed; 0 = never.
    public var idleTimeout: Int = 0

    public init() {}

    /// A frame must at least carry a 64 KiB READ/WRITE; at most what the protocol allows.
    public static let maxFrameRange = (64 * 1024 + 4096)...Wire.maxPayload
    /// What the config file and the command line accept (one rule for both).
    public static let maxHandlesRange = 1...1_000_000
    public static let maxConnectionsPerAddressRange = 1...1_000_000
    public static let handshakeTimeoutRange = 1...3600
    public static let idleTimeoutRange = 0...(86400 * 7)
}

/// Whether frames after authentication are sealed (`--crypt`, `crypt =`).
public enum CryptMode: String, CaseIterable, Sendable {
    /// Every client must offer a suite; one that offers none is refused (EACCES).
    case aead
    /// Sealed when the client offers a suite, plaintext when it offers none (upgrades).
    case optional
    /// Never sealed: for links the administrator trusts.
    case none

    public static let names = allCases.map(\.rawValue).joined(separator: ", ")

    /// The mode in force: `chosen`, or aead with a key and none without. Sealing needs the
    /// key the session keys are derived from.
    public static func effective(_ chosen: CryptMode?, hasKey: Bool) throws -> CryptMode {
        guard let chosen else { return hasKey ? .aead : .none }
        if chosen != .none && !hasKey {
            throw ConfigError("crypt \(chosen.rawValue) needs a key to derive session keys from: start with --key FILE (key_file = FILE), or use --crypt none with --no-auth")
        }
        return chosen
    }
}

/// A configuration mistake, worded for the person who made it.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
