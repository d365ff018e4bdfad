// A mounted export: a pool of connections to one server. Path operations go round-robin;
// operations on a handle go to the connection that opened it (handles are per connection).
#if canImport(Glibc)
import Glibc
#endif
import QtfsAuth
import QtfsProtocol
import Synchronization

/// A server handle together with the connection it belongs to.
public struct RemoteHandle: Equatable, Sendable {
    public let conn: Int
    public let id: UInt64
    public init(conn: Int, id: UInt64) { self.conn = conn; self.id = id }
}

public struct ServerAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public init(host: String, port: UInt16) { self.host = host; self.port = port }

    /// "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT".
    public static func parse(_ s: String, defaultPort: UInt16 = Wire.defaultPort) -> ServerAddress? {
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            let host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            if rest.isEmpty { return ServerAddress(host: host, port: defaultPort) }
            guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()) else { return nil }
            return ServerAddress(host: host, port: p)
        }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 1, !s.isEmpty { return ServerAddress(host: s, port: defaultPort) }
        guard parts.count == 2, !parts[0].isEmpty, let p = UInt16(parts[1]), p != 0 else { return nil }
        return ServerAddress(host: String(parts[0]), port: p)
    }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public final class Session: @unchecked Sendable {
    public let conns: [Connection]
    public let export: UInt32
    /// The mounted directory relative to the export root ("" = the export root).
    public let base: [UInt8]
    public let root: Attr
    /// The key every new connection authenticates with (reconnects call
    /// `Connection.handshake(clientName:key:server:)` with it); nil for a --no-auth server.
    public let key: AuthKey?
    private let next = Atomic<Int>(0)

    public init(conns: [Connection], export: UInt32, base: [UInt8], root: Attr, key: AuthKey? = nil) {
        precondition(!conns.isEmpty)
        self.conns = conns; self.export = export; self.base = base; self.root = root; self.key = key
    }

    /// Connects `count` connections, does the handshake (HELLO, authentication with
    /// `key`) on each and MOUNTs `hostPath`.
    public static func open(_ addr: ServerAddress, hostPath: String, count: Int,
                            caller: Caller, clientName: String = "qtfs-fuse", key: AuthKey? = nil) throws -> Session {
        var conns: [Connection] = []
        for _ in 0..<max(1, count) {
            let c = Connection(socket: try Dial.tcp(host: addr.host, port: addr.port))
            do { try c.handshake(clientName: clientName, key: key, server: "server \(addr)") } catch {
                c.shutdownNow()
                conns.forEach { $0.shutdownNow() }
                if error is ConnectError { throw error }
                throw ConnectError("server at \(addr) did not complete HELLO (\(errnoName(error))) — is it a qtfs-server speaking protocol v1?")
            }
            conns.append(c)
        }
        let r = conns[0].call(.mount) { MountRequest(caller: caller, path: hostPath).encode(into: &$0) }
        do {
            let m = try r.decode(MountReply.self)
            return Session(conns: conns, export: m.export, base: m.base, root: m.root, key: key)
        } catch {
            conns.forEach { $0.shutdownNow() }
            throw ConnectError(mountHint(error, hostPath, addr), errno: (error as? FSError)?.errno ?? LinuxErrno.EIO)
        }
    }

    static func mountHint(_ e: Error, _ path: String, _ addr: ServerAddress) -> String {
        let err = (e as? FSError)?.errno ?? LinuxErrno.EIO
        let why: String
        switch err {
        case LinuxErrno.ENOENT: why = "no such directory on the host"
        case LinuxErrno.ENOTDIR: why = "not a directory on the host"
        case LinuxErrno.EACCES, LinuxErrno.EPERM:
            why = "not inside any directory the server exports, or not allowed — export it with `qtfs-server --export \(path)`"
        default: why = errnoName(e)
        }
        return "server \(addr) refused to mount host path \(path): \(why)"
    }

    /// The connection for a path operation: round-robin, skipping dead connections.
    public func pathConn() -> Connection { conns[pathConnIndex()] }

    /// Index of the next live connection (all dead: any, whose calls fail with EIO).
    public func pathConnIndex() -> Int {
        let n = conns.count
        let start = next.add(1, ordering: .relaxed).oldValue
        for i in 0..<n where conns[(start &+ i) % n].isAlive { return (start &+ i) % n }
        return start % n
    }

    public func target(_ path: [UInt8]) -> Target { Target(export: export, path: path) }

    public func close() { conns.forEach { $0.shutdownNow() } }
}

func errnoName(_ e: Error) -> String {
    guard let f = e as? FSError else { return "\(e)" }
    return String(cString: strerror(f.errno)).lowercased()
}
