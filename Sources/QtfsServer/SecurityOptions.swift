// Command-line options for authentication, the whitelist and the limits, and the start
// policy: no key and no explicit --no-auth means no start.
import ArgumentParser
import QtfsAuth
import QtfsServerCore

extension CryptMode: ExpressibleByArgument {}

struct SecurityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Pre-shared key file (mode 0600) clients must prove they hold.", valueName: "file"))
    var key: String?

    @Flag(help: "Serve without authentication (any peer that can connect may act as any user; loopback testing only).")
    var noAuth = false

    @Option(help: ArgumentHelp("Seal frames after authentication: aead (default with a key), optional (plaintext for clients offering no cipher), none (default without a key; a warning at start).", valueName: "mode"))
    var crypt: CryptMode?

    @Flag(help: "Same as --crypt aead: refuse clients that do not seal their frames.")
    var requireCrypt = false

    @Option(help: ArgumentHelp("Write a new random key to this file (mode 0600) and exit.", valueName: "file"))
    var generateKey: String?

    @Option(name: .customLong("allow-client"),
            help: ArgumentHelp("Client address or prefix allowed to connect (repeatable; default any).", valueName: "addr[/len]"))
    var allowClients: [String] = []

    @Option(help: ArgumentHelp("Whitelist file in upstream qtfs format (e.g. /etc/qtfs/whitelist).", valueName: "file"))
    var whitelist: String?

    @Option(help: "Largest frame payload accepted, bytes (default and maximum 1114112).")
    var maxFrame: Int?
    @Option(help: "Open files and directories per connection (default 4096).")
    var maxHandles: Int?
    @Option(help: "Connections from one client address (default 256).")
    var maxConnectionsPerAddress: Int?
    @Option(help: "Seconds a connection may take for HELLO and authentication (default 10).")
    var handshakeTimeout: Int?
    @Option(help: "Close connections idle this many seconds with nothing in flight; 0 never (default).")
    var idleTimeout: Int?

    func validate() throws {
        if key != nil && noAuth { throw ValidationError("--key and --no-auth exclude each other; pick one") }
        if requireCrypt, let crypt, crypt != .aead {
            throw ValidationError("--require-crypt means --crypt aead; it excludes --crypt \(crypt.rawValue)")
        }
        if let maxFrame, !ServerConfig.maxFrameRange.contains(maxFrame) {
            throw ValidationError("--max-frame must be in \(ServerConfig.maxFrameRange.lowerBound)...\(ServerConfig.maxFrameRange.upperBound)")
        }
        let ranged: [(String, Int?, ClosedRange<Int>)] = [
            ("--max-handles", maxHandles, ServerConfig.maxHandlesRange),
            ("--max-connections-per-address", maxConnectionsPerAddress, ServerConfig.maxConnectionsPerAddressRange),
            ("--handshake-timeout", handshakeTimeout, ServerConfig.handshakeTimeoutRange),
            ("--idle-timeout", idleTimeout, ServerConfig.idleTimeoutRange),
        ]
        for (name, value, range) in ranged {
            if let value, !range.contains(value) {
                throw ValidationError("\(name) must be in \(range.lowerBound)...\(range.upperBound) (got \(value))")
            }
        }
    }

    func apply(to cfg: inout ServerConfig) throws {
        if let key { cfg.authKeyFile = key; cfg.noAuth = false }
        if noAuth { cfg.noAuth = true; cfg.authKeyFile = nil }
        if let crypt { cfg.crypt = crypt }
        if requireCrypt { cfg.crypt = .aead }
        if !allowClients.isEmpty { cfg.allowedClients = allowClients }
        if let whitelist { cfg.whitelistFile = whitelist }
        if let maxFrame { cfg.maxFrame = maxFrame }
        if let maxHandles { cfg.maxHandles = maxHandles }
        if let maxConnectionsPerAddress { cfg.maxConnectionsPerAddress = maxConnectionsPerAddress }
        if let handshakeTimeout { cfg.handshakeTimeout = handshakeTimeout }
        if let idleTimeout { cfg.idleTimeout = idleTimeout }
        if cfg.noAuth { cfg.authKeyFile = nil }
        guard cfg.authKeyFile != nil || cfg.noAuth else {
            throw ValidationError("""
                no authentication key configured. Make one and start with it:
                  qtfs-server --generate-key /etc/qtfs/qtfs.key
                  qtfs-server --key /etc/qtfs/qtfs.key ...     (or key_file = ... in the config file)
                and give clients the same file (qtfs-fuse -o key=/etc/qtfs/qtfs.key). To serve without
                authentication on a trusted loopback setup, say so with --no-auth (or auth = none).
                """)
        }
    }

    static func generate(_ path: String) throws {
        do {
            try AuthKey.generate(path: path)
        } catch let e as AuthKeyError {
            throw ValidationError(e.description)
        }
        print("wrote a new key to \(path) (mode 0600); copy it to each client, e.g. as /etc/qtfs/qtfs.key with mode 0600")
    }
}
