// The DPU side's configuration file (docs/client.md, "Client configuration"): the server
// and key that mount.qtfs, qtfs-fuse, qtfs-rexec and qtfs-run use when their command line
// names none, so that a mount line reads as upstream's (`mount -t qtfs -o proc /proc DIR`).
//
//   # /etc/qtfs/client.conf
//   server = 192.0.2.10        # HOST or HOST:PORT
//   port = 12345               # when `server` names no port
//   key_file = /etc/qtfs/qtfs.key
//   conns = 4                  # qtfs-fuse: connections per mount
//   crypt = aead               # qtfs-fuse: sealed frames (default with a key), or none
import QtfsProtocol
import QtfsSystem
#if canImport(Glibc)
import Glibc
#endif

public struct ClientConfig: Equatable, Sendable {
    public static let defaultPath = "/etc/qtfs/client.conf"
    /// The variable that names another file; set and empty: no file at all.
    public static let pathVariable = "QTFS_CLIENT_CONF"
    public static let connsRange = 1...64

    public var server: ServerAddress?
    public var keyFile: String?
    public var conns: Int?
    public var crypt: ClientCrypt?

    public init() {}

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The file $QTFS_CLIENT_CONF names, else /etc/qtfs/client.conf. A missing default
    /// file is an empty configuration; a missing named file, an unreadable file or a
    /// mistake in one is an error that names the file (and line).
    public static func load(environment: [String: String]) throws -> ClientConfig {
        let named = environment[pathVariable]
        if named == "" { return ClientConfig() }
        let path = named ?? defaultPath
        guard let text = readWholeFile(path) else {
            if named == nil && errno == ENOENT { return ClientConfig() }
            throw Failure(description: "cannot read the client configuration \(path): \(String(cString: strerror(errno)))")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws -> ClientConfig {
        var c = ClientConfig()
        var port: UInt16?
        let lines: [IniLine]
        do { lines = try IniText.lines(text, source: source) } catch let e as IniError { throw Failure(description: e.description) }
        for line in lines {
            switch line {
            case .section(let name, let at):
                guard name == "client" else { throw Failure(description: "\(at): unknown section [\(name)]; settings go before any section or in [client]") }
            case .setting(let key, let value, let at):
                try c.set(key, value, at, port: &port)
            }
        }
        if let p = port {
            guard let s = c.server else { throw Failure(description: "\(source): port = \(p) without server = HOST") }
            if !c.serverNamedPort { c.server = ServerAddress(host: s.host, port: p) }
        }
        return c
    }

    private var serverNamedPort = false

    /// The settings as one `-o` list put right after argv[0], so that the command line's
    /// own options, read later, override them (qtfs-fuse and mount.qtfs: the last wins).
    public func asLeadingOptions(_ argv: [String]) -> [String] {
        var opts: [String] = []
        if let s = server { opts.append("server=\(s.host.contains(":") ? "[\(s.host)]" : s.host):\(s.port)") }
        if let k = keyFile { opts.append("key=\(k)") }
        if let n = conns { opts.append("conns=\(n)") }
        if let c = crypt { opts.append("crypt=\(c.rawValue)") }
        guard !opts.isEmpty, let name = argv.first else { return argv }
        return [name, "-o", opts.joined(separator: ",")] + argv.dropFirst()
    }

    private mutating func set(_ key: String, _ value: String, _ at: String, port: inout UInt16?) throws {
        switch key {
        case "server":
            guard let a = ServerAddress.parse(value) else { throw Failure(description: "\(at): server = '\(value)' is not HOST or HOST:PORT") }
            server = a
            serverNamedPort = ServerAddress.parse(value, defaultPort: 0)?.port != 0
        case "port":
            guard let p = UInt16(value), p != 0 else { throw Failure(description: "\(at): port = '\(value)' must be a number in 1...65535") }
            port = p
        case "key_file":
            guard value.hasPrefix("/") else { throw Failure(description: "\(at): key_file = '\(value)' must be an absolute path") }
            keyFile = value
        case "conns":
            guard let n = Int(value), Self.connsRange.contains(n) else {
                throw Failure(description: "\(at): conns = '\(value)' must be a number in \(Self.connsRange.lowerBound)...\(Self.connsRange.upperBound)")
            }
            conns = n
        case "crypt":
            guard let mode = ClientCrypt(rawValue: value) else {
                throw Failure(description: "\(at): crypt = '\(value)' must be \(ClientCrypt.names)")
            }
            crypt = mode
        default:
            throw Failure(description: "\(at): unknown setting '\(key)'; the client configuration knows server, port, key_file, conns and crypt")
        }
    }
}
