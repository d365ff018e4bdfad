// Which qtfs-server a DPU-side command talks to, with which key and whether sealed: the
// options qtfs-rexec and qtfs-run share (`-s`, `-k`, `--crypt`, `-o server=...,key=...`,
// CMD_NET_ADDR).
import Glibc

public struct ServerOptions: Sendable {
    public static let defaultKey = "/etc/qtfs/qtfs.key"
    public var server = ServerAddress(host: "127.0.0.1", port: 12345)
    public var keyFile: String?
    /// Sealed frames (`--crypt`, client.conf `crypt =`); nil: aead with a key, none without.
    public var crypt: ClientCrypt?

    public static let help = """
      -s, --server HOST[:PORT]   the host's qtfs-server (default: $CMD_NET_ADDR as
                                 tcp://HOST:PORT, else server= in \(ClientConfig.defaultPath),
                                 else 127.0.0.1:12345)
      -k, --key FILE             key file (default: key_file= in \(ClientConfig.defaultPath),
                                 else \(defaultKey) when it exists)
      --crypt aead|none          seal every frame after authentication (aead, the
                                 default with a key) or not (none: plaintext, for a
                                 trusted link; the server must allow it); default:
                                 crypt= in \(ClientConfig.defaultPath)
      -o server=...,key=...,crypt=...
                                 the same, as mount options are written
    """

    public struct UsageError: Error {
        public let message: String
        public init(message: String) { self.message = message }
    }

    /// Defaults, weakest first: the built-in ones, the client configuration
    /// (/etc/qtfs/client.conf or $QTFS_CLIENT_CONF), CMD_NET_ADDR (upstream's variable).
    /// The key: the configuration's, else the default key when it exists.
    public init(environment: [String: String]) throws {
        let config: ClientConfig
        do { config = try ClientConfig.load(environment: environment) } catch let e as ClientConfig.Failure {
            throw UsageError(message: e.description)
        }
        if let s = config.server { server = s }
        if let addr = environment["CMD_NET_ADDR"] { server = try Self.netAddr(addr) }
        keyFile = config.keyFile ?? (access(Self.defaultKey, F_OK) == 0 ? Self.defaultKey : nil)
        crypt = config.crypt
    }

    /// The crypt mode for a connection with or without a key; aead asked for without a
    /// key is a mistake (no secret to derive session keys from).
    public func cryptMode(hasKey: Bool) throws -> ClientCrypt {
        if crypt == .aead && !hasKey {
            throw UsageError(message: "--crypt aead (or crypt = aead in the client configuration) needs the server's key to seal with: give it with -k FILE")
        }
        return ClientCrypt.effective(crypt, hasKey: hasKey)
    }

    /// The variables `init(environment:)` reads, from this process's environment.
    public static func processEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        for name in ["CMD_NET_ADDR", ClientConfig.pathVariable] {
            if let v = getenv(name) { env[name] = String(cString: v) }
        }
        return env
    }

    /// Applies `flag` with `value` when it is one of ours; false for any other flag.
    public mutating func apply(_ flag: String, _ value: () throws -> String) throws -> Bool {
        switch flag {
        case "-s", "--server": server = try Self.address(try value())
        case "-k", "--key": keyFile = try value()
        case "--crypt": crypt = try Self.cryptValue(try value())
        case "-o": try applyMountOptions(try value())
        default: return false
        }
        return true
    }

    public static func netAddr(_ s: String) throws -> ServerAddress {
        let text = s.hasPrefix("tcp://") ? String(s.dropFirst(6)) : s
        guard let a = ServerAddress.parse(text) else {
            throw UsageError(message: "CMD_NET_ADDR=\(s) is not tcp://HOST:PORT")
        }
        return a
    }

    private mutating func applyMountOptions(_ s: String) throws {
        for item in s.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            switch (kv[0], kv.count == 2 ? kv[1] : nil) {
            case ("server", let v?): server = try Self.address(v)
            case ("key", let v?): keyFile = v
            case ("crypt", let v?): crypt = try Self.cryptValue(v)
            default: throw UsageError(message: "-o \(item): only server=HOST[:PORT], key=FILE and crypt=aead|none are known")
            }
        }
    }

    private static func cryptValue(_ s: String) throws -> ClientCrypt {
        guard let mode = ClientCrypt(rawValue: s) else { throw UsageError(message: "crypt must be \(ClientCrypt.names), got '\(s)'") }
        return mode
    }

    private static func address(_ s: String) throws -> ServerAddress {
        guard let a = ServerAddress.parse(s) else { throw UsageError(message: "\(s) is not HOST[:PORT]") }
        return a
    }
}
