// Parser for the INI-like config file documented in docs/server.md:
//
//   # comment
//   listen = 0.0.0.0
//   port = 12345
//   [export]
//   path = /srv
//   read_only = yes
import Glibc
internal import CQtfsSys
import Logging
import QtfsSystem

extension ServerConfig {
    /// Reads `path` and applies its settings on top of `self`. Exports listed in the
    /// file replace the default export.
    public mutating func load(file path: String) throws {
        guard let text = readWholeFile(path) else {
            throw ConfigError("cannot read config file \(path): \(String(cString: strerror(errno))); check the path given to --config")
        }
        try apply(configText: text, source: path)
    }

    public mutating func apply(configText text: String, source: String = "config") throws {
        var exports: [ExportConfig] = []
        var section = ""
        let lines: [IniLine]
        do { lines = try IniText.lines(text, source: source) } catch let e as IniError { throw ConfigError(e.description) }
        for line in lines {
            switch line {
            case .section(let name, let at):
                guard name == "server" || name == "export" else {
                    throw ConfigError("\(at): unknown section [\(name)]; use [server] or [export]")
                }
                section = name
                if section == "export" { exports.append(ExportConfig(path: "")) }
            case .setting(let key, let value, let at) where section == "export":
                try Self.set(&exports[exports.count - 1], key, value, at)
            case .setting(let key, let value, let at):
                try set(key, value, at)
            }
        }
        if exports.contains(where: { $0.path.isEmpty }) {
            throw ConfigError("\(source): an [export] section has no 'path = /some/dir'")
        }
        if !exports.isEmpty { self.exports = exports }
    }

    private mutating func set(_ key: String, _ value: String, _ at: String) throws {
        switch key {
        case "listen": listen = value
        case "unix_connect": unixConnect.append(value)
        case "unix_listen": unixListen.append(value)
        case "rexec_whitelist": rexecWhitelist = value.isEmpty ? nil : value
        case "port": port = try Self.number(value, at, key, in: 0...65535).asUInt16
        case "workers": workers = try Self.number(value, at, key, in: 1...1024)
        case "max_connections": maxConnections = try Self.number(value, at, key, in: 1...1_000_000)
        case "max_in_flight": maxInFlight = try Self.number(value, at, key, in: 1...65536)
        case "metrics_listen": metricsListen = value.isEmpty ? nil : value
        case "socket_buffer": socketBuffer = try Self.number(value, at, key, in: 4096...(256 << 20))
        case "key_file": authKeyFile = value
        case "auth":
            guard value == "none" || value == "hmac" else {
                throw ConfigError("\(at): auth = '\(value)' unknown; use auth = hmac (with key_file) or auth = none (loopback testing)")
            }
            noAuth = value == "none"
        case "crypt":
            guard let mode = CryptMode(rawValue: value) else {
                throw ConfigError("\(at): crypt = '\(value)' unknown; use one of \(CryptMode.names)")
            }
            crypt = mode
        case "allow_clients": allowedClients = value.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        case "whitelist": whitelistFile = value
        case "max_frame": maxFrame = try Self.number(value, at, key, in: ServerConfig.maxFrameRange)
        case "max_handles": maxHandles = try Self.number(value, at, key, in: ServerConfig.maxHandlesRange)
        case "max_connections_per_address": maxConnectionsPerAddress = try Self.number(value, at, key, in: ServerConfig.maxConnectionsPerAddressRange)
        case "handshake_timeout": handshakeTimeout = try Self.number(value, at, key, in: ServerConfig.handshakeTimeoutRange)
        case "idle_timeout": idleTimeout = try Self.number(value, at, key, in: ServerConfig.idleTimeoutRange)
        case "log_level":
            guard let l = Logger.Level(rawValue: value) else {
                throw ConfigError("\(at): log_level '\(value)' unknown; use trace, debug, info, notice, warning, error or critical")
            }
            logLevel = l
        default: throw ConfigError("\(at): unknown setting '\(key)'")
        }
    }

    private static func set(_ e: inout ExportConfig, _ key: String, _ value: String, _ at: String) throws {
        switch key {
        case "path": e.path = value
        case "read_only": e.readOnly = try bool(value, at, key)
        case "root_squash": e.rootSquash = try bool(value, at, key)
        default: throw ConfigError("\(at): unknown export setting '\(key)'; use path, read_only or root_squash")
        }
    }

    /// Parses "/srv:ro,root_squash" as given to --export.
    public static func parseExport(_ spec: String) throws -> ExportConfig {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        var e = ExportConfig(path: String(parts[0]))
        if parts.count > 1 {
            for opt in parts[1].split(separator: ",") {
                switch opt {
                case "ro", "read_only": e.readOnly = true
                case "rw": e.readOnly = false
                case "root_squash": e.rootSquash = true
                case "no_root_squash": e.rootSquash = false
                default: throw ConfigError("export '\(spec)': unknown option '\(opt)'; use ro, rw, root_squash or no_root_squash")
                }
            }
        }
        return e
    }

    static func number(_ v: String, _ at: String, _ key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let n = Int(v), range.contains(n) else {
            throw ConfigError("\(at): \(key) = '\(v)' must be a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    static func bool(_ v: String, _ at: String, _ key: String) throws -> Bool {
        guard let b = IniText.bool(v) else { throw ConfigError("\(at): \(key) = '\(v)' must be yes or no") }
        return b
    }
}

extension Int {
    fileprivate var asUInt16: UInt16 { UInt16(truncatingIfNeeded: self) }
}
